/**
 * Plugin packages for tests, made the way `wasmgate plugin pack` and `sign` make them (the same
 * functions), from a plugin folder written into a temp directory: a built-in plugin's manifest with
 * its version (and whatever else a test changes) replaced, next to any module.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey, readPrivateKey, signStatement } from '../../src/host/packages/package-signature.js';
import { encodePackage, packPluginFolder, parsePackage } from '../../src/host/packages/plugin-package.js';
import { REPO_ROOT } from './plugins.js';

export interface TestKey {
  readonly privatePem: string;
  readonly publicPem: string;
  readonly keyId: string;
  /** Where the public key was written (for plugins.trusted_keys). */
  readonly publicFile: string;
}

export async function writeKey(dir: string, name: string): Promise<TestKey> {
  const key = generateSigningKey();
  const publicFile = join(dir, `${name}.pub`);
  await writeFile(publicFile, key.publicPem);
  return { ...key, publicFile };
}

export interface PackageSpec {
  /** The built-in plugin whose manifest is the starting point (default: the plugin's own name). */
  from?: string;
  name: string;
  version: string;
  /** The module's bytes (default: the built-in plugin's module). */
  wasm?: Uint8Array;
  /** Changes to the manifest text, after the version is set. */
  edit?: (manifest: string) => string;
  /** Signs the package with this key. */
  key?: TestKey;
}

/** Writes `<dir>/<name>-<version>.wgp` and returns its path. */
export async function writePackage(dir: string, spec: PackageSpec): Promise<string> {
  const from = spec.from ?? spec.name;
  const folder = join(dir, `src-${spec.name}-${spec.version}`, spec.name);
  await mkdir(join(folder, 'build'), { recursive: true });
  let manifest = (await readFile(join(REPO_ROOT, 'plugins', from, 'plugin.yaml'), 'utf8'))
    .replace(/^name: .*$/m, `name: ${spec.name}`)
    .replace(/^version: .*$/m, `version: ${spec.version}`);
  if (spec.edit) manifest = spec.edit(manifest);
  await writeFile(join(folder, 'plugin.yaml'), manifest);
  await writeFile(join(folder, 'build', `${spec.name}.wasm`), spec.wasm ?? (await readFile(join(REPO_ROOT, 'plugins', from, 'build', `${from}.wasm`))));
  let bytes = (await packPluginFolder(folder)).bytes;
  if (spec.key) bytes = signed(bytes, spec.key);
  const file = join(dir, `${spec.name}-${spec.version}${spec.key ? '' : '-unsigned'}.wgp`);
  await writeFile(file, bytes);
  return file;
}

/** The package `bytes` signed with `key`, as `wasmgate plugin sign` does it. */
export function signed(bytes: Uint8Array, key: TestKey): Uint8Array {
  const pkg = parsePackage(bytes, 'test.wgp');
  const signature = signStatement(pkg.statement, readPrivateKey(key.privatePem, 'test.key'));
  return encodePackage({ manifestBytes: pkg.manifestBytes, module: pkg.module, signature });
}
