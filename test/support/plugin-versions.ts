/**
 * Versions of a built plugin for swap tests: the same module with a custom section naming the version
 * (so its bytes differ and a reload sees a new module, while what it computes is the shipped plugin's),
 * written as `<dir>/<version>/<name>.wasm` with its manifest `<name>.plugin.yaml` beside it, the
 * version in the manifest changed. A pipeline names it by path: `- path: <dir>/<version>/<name>.wasm`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, builtPluginPath } from './plugins.js';

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** `module` with a custom section (id 0, WebAssembly core spec 5.5.3) `name` holding `payload` appended. */
export function withCustomSection(module: Uint8Array, name: string, payload: string): Uint8Array {
  const nameBytes = Buffer.from(name);
  const body = [...leb128(nameBytes.length), ...nameBytes, ...Buffer.from(payload)];
  return Buffer.concat([module, Buffer.from([0, ...leb128(body.length), ...body])]);
}

/** Writes version `version` of built plugin `name` (or of `module`, when given); returns the module's path. */
export async function writePluginVersion(dir: string, name: string, version: string, module?: Uint8Array): Promise<string> {
  const folder = join(dir, version);
  await mkdir(folder, { recursive: true });
  const bytes = module ?? (await readFile(builtPluginPath(name)));
  const manifest = (await readFile(join(REPO_ROOT, 'plugins', name, 'plugin.yaml'), 'utf8')).replace(/^version: .*$/m, `version: ${version}`);
  const wasm = join(folder, `${name}.wasm`);
  await writeFile(wasm, withCustomSection(bytes, 'wasmgate-test-version', version));
  await writeFile(join(folder, `${name}.plugin.yaml`), manifest);
  return wasm;
}
