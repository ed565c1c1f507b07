/**
 * `wasmgate plugin new NAME --kind decoder|transform|encoder`: writes a buildable plugin folder (source,
 * manifest, test) that works as it is, as a starting point. The test uses `wasmgate/plugin-harness`.
 */
import { createRequire } from 'node:module';
import { mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WgError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { PluginKind } from '../engine/abi.js';
import { SDK_DIR, SDK_PACKAGE_PATH } from './build.js';
import { decoderManifest, decoderSource, decoderTest } from './templates/decoder.js';
import { encoderManifest, encoderSource, encoderTest } from './templates/encoder.js';
import { transformManifest, transformSource, transformTest } from './templates/transform.js';

const PACKAGE_ROOT = packageRoot();
const HARNESS_FILE = join(PACKAGE_ROOT, 'dist', 'src', 'host', 'engine', 'harness.js');
export const PLUGIN_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const TEMPLATES: Record<PluginKind, { source: string; manifest: string; test: string }> = {
  decoder: { source: decoderSource, manifest: decoderManifest, test: decoderTest },
  transform: { source: transformSource, manifest: transformManifest, test: transformTest },
  encoder: { source: encoderSource, manifest: encoderManifest, test: encoderTest },
};

/** Whether `wasmgate`, resolved from `dir` as Node would, is the package running this code. */
async function resolvesToThisPackage(dir: string): Promise<boolean> {
  try {
    const found = createRequire(join(dir, 'package.json')).resolve('wasmgate/package.json');
    return (await realpath(dirname(found))) === (await realpath(PACKAGE_ROOT));
  } catch {
    return false;
  }
}

export interface NewPlugin {
  dir: string;
  files: string[];
}

export async function newPlugin(name: string, kind: PluginKind, dir: string): Promise<NewPlugin> {
  if (!PLUGIN_NAME.test(name)) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `plugin name "${name}": use lower-case letters, digits and dashes, starting with a letter` });
  }
  const target = resolve(dir);
  if (await stat(target).then(() => true, () => false)) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `${target} exists already; pick another --dir or remove it` });
  }
  const inPackage = !relative(PACKAGE_ROOT, target).startsWith('..');
  // A folder in a project that has wasmgate installed imports SDK and harness by package name, so the
  // plugin's sources do not depend on where node_modules is; anywhere else they name files.
  const byName = !inPackage && (await resolvesToThisPackage(target));
  const values: Record<string, string> = {
    name,
    sdk: byName ? SDK_PACKAGE_PATH : relative(target, SDK_DIR).split('\\').join('/'),
    harness: inPackage || byName ? 'wasmgate/plugin-harness' : pathToFileURL(HARNESS_FILE).href,
  };
  const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key]!);
  const template = TEMPLATES[kind];
  const files = { [`${name}.ts`]: template.source, 'plugin.yaml': template.manifest, [`${name}.test.mjs`]: template.test };
  await mkdir(target, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(target, file), fill(text));
  return { dir: target, files: Object.keys(files) };
}
