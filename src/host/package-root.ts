/**
 * The wasmgate package's root folder (package.json, plugins/, config/), found by walking up from this
 * module to the first package.json that is wasmgate's, not by a fixed `../../..`: the same code runs
 * from dist/src/host/ (tsc's output) and from dist/bundle/ (the bundled host, a different depth).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wasmgate') return (cached = dir);
    // A program file outside its package: an installation broken beyond anything a setting fixes.
    if (dirname(dir) === dir) throw new Error(`wasmgate: no package.json of wasmgate in ${start} or above`);
  }
}
