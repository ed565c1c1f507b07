/**
 * A plugin package (docs/plugins.md, "Packages"): the module, its manifest and, once signed, the
 * signature, in one ustar archive (package-archive.ts) with the members `manifest.yaml`,
 * `plugin.wasm` and `signature`. The manifest is the plugin folder's `plugin.yaml` with `imports`
 * and the module's `sha256` added by `wasmgate plugin pack`; it is checked by the same loader as a
 * folder's manifest, so its problems are positioned (`scale-0.2.0.wgp!manifest.yaml:4:1`).
 */
import { open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadPluginManifest, checkPluginManifest, type PluginManifest } from '../config/plugin-manifest.js';
import { YamlSource, MAX_CONFIG_FILE_BYTES } from '../config/yaml-source.js';
import { formatProblem } from '../config/problem.js';
import { WgError } from '../errors.js';
import { readArchive, writeArchive, type ArchiveMember } from './package-archive.js';
import { decodeSignature, encodeSignature, sha256Hex, statementOf, type PackageSignature } from './package-signature.js';

export const MEMBER = { manifest: 'manifest.yaml', module: 'plugin.wasm', signature: 'signature' } as const;
/** The file name ending `plugin pack` gives a package. */
export const PACKAGE_SUFFIX = '.wgp';
/** Largest module a package may carry: far above the 16 KB budget, well below what a small gateway holds. */
export const MAX_MODULE_BYTES = 16 * 1024 * 1024;
const MAX_SIGNATURE_BYTES = 4096;
/** Largest package file read: its members, their headers and tar's padding. */
export const MAX_PACKAGE_BYTES = MAX_MODULE_BYTES + MAX_CONFIG_FILE_BYTES + 64 * 1024;

const LIMITS = new Map<string, number>([
  [MEMBER.manifest, MAX_CONFIG_FILE_BYTES],
  [MEMBER.module, MAX_MODULE_BYTES],
  [MEMBER.signature, MAX_SIGNATURE_BYTES],
]);

export interface PluginPackage {
  /** Where it was read from (names it in errors). */
  readonly file: string;
  readonly manifestBytes: Uint8Array;
  readonly module: Uint8Array;
  readonly signature: PackageSignature | null;
  /** The manifest, checked; `sha256` matches the module. */
  readonly manifest: PluginManifest & { readonly sha256: string };
  /** What the signature signs (package-signature.ts). */
  readonly statement: Uint8Array;
  /** sha256 of the package file as read: what the CLI names when it asks the daemon to install it. */
  readonly fileSha256: string;
}

/** Reads and checks a package file: archive, manifest, sha256 (the signature is package-trust's). */
export async function readPackageFile(file: string): Promise<PluginPackage> {
  let bytes: Uint8Array;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_PACKAGE_BYTES) throw new WgError('WG_ERR_PACKAGE_FORMAT', { file, detail: `${size} bytes, more than a package may be (${MAX_PACKAGE_BYTES})` });
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof WgError) throw err;
    throw new WgError('WG_ERR_PACKAGE_READ', { file, detail: (err as Error).message }, { cause: err });
  }
  return parsePackage(bytes, file);
}

export function parsePackage(bytes: Uint8Array, file: string): PluginPackage {
  const members = readArchive(bytes, file, LIMITS);
  const manifestBytes = members.get(MEMBER.manifest);
  const module = members.get(MEMBER.module);
  if (!manifestBytes || !module) {
    throw new WgError('WG_ERR_PACKAGE_FORMAT', { file, detail: `a package holds ${MEMBER.manifest} and ${MEMBER.module}; missing ${[!manifestBytes && MEMBER.manifest, !module && MEMBER.module].filter(Boolean).join(', ')}` });
  }
  const signatureBytes = members.get(MEMBER.signature);
  const signature = signatureBytes ? decodeSignature(signatureBytes, file) : null;
  const manifest = checkPackagedManifest(manifestBytes, file);
  const actual = sha256Hex(module);
  if (actual !== manifest.sha256) {
    throw new WgError('WG_ERR_PACKAGE_TAMPERED', { file, plugin: manifest.name, detail: `the module's sha256 is ${actual}, the manifest says ${manifest.sha256}: the module was changed after packing` });
  }
  return { file, manifestBytes, module, signature, manifest, statement: statementOf(manifestBytes, module), fileSha256: sha256Hex(bytes) };
}

/** The package's bytes: its members in the fixed order manifest, module, signature. */
export function encodePackage(parts: { manifestBytes: Uint8Array; module: Uint8Array; signature: PackageSignature | null }): Uint8Array {
  const members: ArchiveMember[] = [
    { name: MEMBER.manifest, bytes: parts.manifestBytes },
    { name: MEMBER.module, bytes: parts.module },
  ];
  if (parts.signature) members.push({ name: MEMBER.signature, bytes: encodeSignature(parts.signature) });
  return writeArchive(members);
}

/**
 * The unsigned package of a plugin folder (`plugin.yaml` and the built `build/<name>.wasm`): the
 * manifest text as the author wrote it, comments kept, with `imports` (when not written: the
 * default, spelt out) and the module's `sha256` appended.
 */
export async function packPluginFolder(dir: string): Promise<{ bytes: Uint8Array; manifest: PluginManifest; module: Uint8Array }> {
  const loaded = await loadPluginManifest(dir);
  if (!loaded.ok) {
    throw new WgError('WG_ERR_PLUGIN_MANIFEST', { file: join(dir, 'plugin.yaml'), detail: loaded.problems.map((p) => formatProblem(p)).join('; '), problems: loaded.problems.map((p) => formatProblem(p)) });
  }
  const { manifest, wasmPath } = loaded.plugin;
  let module: Uint8Array;
  try {
    module = await readFile(wasmPath);
  } catch (err) {
    throw new WgError('WG_ERR_PACKAGE_READ', { file: wasmPath, detail: `${(err as Error).message} (was the plugin built? run: wasmgate plugin build ${dir})` }, { cause: err });
  }
  let text = await readFile(manifest.file, 'utf8');
  if (!text.endsWith('\n')) text += '\n';
  const read = YamlSource.parse(manifest.file, text);
  if (read.ok && !read.source.has(['imports'])) text += `imports: [${manifest.imports.join(', ')}]\n`;
  text += `sha256: ${sha256Hex(module)}\n`;
  const manifestBytes = Buffer.from(text, 'utf8');
  const bytes = encodePackage({ manifestBytes, module, signature: null });
  // What was written must read back as a package: the same checks an install makes of it.
  parsePackage(bytes, `${basename(dir)}${PACKAGE_SUFFIX}`);
  return { bytes, manifest, module };
}

/** The package file name `plugin pack` suggests: `<name>-<version>.wgp`. */
export function packageFileName(manifest: Pick<PluginManifest, 'name' | 'version'>): string {
  return `${manifest.name}-${manifest.version}${PACKAGE_SUFFIX}`;
}

function checkPackagedManifest(bytes: Uint8Array, file: string): PluginManifest & { sha256: string } {
  const where = `${file}!${MEMBER.manifest}`;
  const read = YamlSource.parse(where, Buffer.from(bytes).toString('utf8'));
  const problems = read.ok ? undefined : read.problems;
  if (read.ok) {
    const data = read.source.data as { name?: unknown } | null;
    const name = typeof data?.name === 'string' ? data.name : '';
    const checked = checkPluginManifest(read.source, { name, wasmPath: `${file}!${MEMBER.module}`, packaged: true });
    if (checked.ok) return checked.plugin.manifest as PluginManifest & { sha256: string };
    throw new WgError('WG_ERR_PLUGIN_MANIFEST', { file: where, detail: checked.problems.map((p) => formatProblem(p)).join('; '), problems: checked.problems.map((p) => formatProblem(p)) });
  }
  throw new WgError('WG_ERR_PLUGIN_MANIFEST', { file: where, detail: problems!.map((p) => formatProblem(p)).join('; '), problems: problems!.map((p) => formatProblem(p)) });
}
