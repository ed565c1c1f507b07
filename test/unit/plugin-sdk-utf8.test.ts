// The SDK's static UTF-8 texts (plugins/sdk/utf8.ts) and the build transform that makes them
// (src/host/plugin-build/utf8-literals.ts): the bytes laid down for a literal, a plugin that logs one,
// and the compile error for a call the transform cannot make static.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildPlugin } from '../../src/host/plugin-build/build.js';
import { utf8Data } from '../../src/host/plugin-build/utf8-literals.js';
import { loadPlugin } from '../../src/host/engine/harness.js';
import { isWgError } from '../../src/host/errors.js';
import { REPO_ROOT } from '../support/plugins.js';

test('a literal becomes its UTF-8 bytes after a little-endian u16 byte count', () => {
  assert.deepEqual([...utf8Data('')], [0, 0]);
  assert.deepEqual([...utf8Data('CRC ')], [4, 0, 0x43, 0x52, 0x43, 0x20]);
  // U+00E9 and U+00B0 take two bytes each in UTF-8 (RFC 3629, section 3): 110xxxxx 10xxxxxx.
  assert.deepEqual([...utf8Data('é°')], [4, 0, 0xc3, 0xa9, 0xc2, 0xb0]);
  assert.deepEqual([...utf8Data('x'.repeat(300))].slice(0, 2), [300 & 0xff, 300 >> 8]);
  assert.throws(() => utf8Data('x'.repeat(65536)), /65536 bytes is over the 65535/);
});

/**
 * Builds, in a temporary folder, a transform plugin whose wg_configure runs `body` (AssemblyScript), with
 * `head` at the top level; next to it, unused.ts exports a function with a text.
 */
async function buildProbe(t: { after(fn: () => Promise<void>): void }, body: string, head = '') {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-utf8-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plugin = join(dir, 'probe');
  await mkdir(plugin);
  const sdk = relative(plugin, join(REPO_ROOT, 'plugins', 'sdk')); // asc resolves relative imports only
  await writeFile(join(plugin, 'unused.ts'), `import { utf8, Utf8 } from "${sdk}/utf8";
export function unusedText(): Utf8 { return utf8("a text no call reaches"); }
`);
  await writeFile(join(plugin, 'probe.ts'), `import { OK, INFO } from "${sdk}";
import { lineStart, lineUtf8, lineLog } from "${sdk}/log-line";
import { utf8 } from "${sdk}/utf8";
export { wasmgate_abi_v1, wg_input, wg_output } from "${sdk}";
${head}
export function wg_configure(size: i32): i32 {
${body}
  return OK;
}
export function wg_process(size: i32): i32 { return size; }
`);
  return plugin;
}

test('a plugin logs a utf8() text exactly as written, non-ASCII included; the module holds it once, as UTF-8, and only if used', async (t) => {
  const plugin = await buildProbe(t, `  lineStart();
  lineUtf8(utf8("tank "));
  lineUtf8(utf8("at 21 °C: grüße"));
  lineLog(INFO);
  lineStart();
  lineUtf8(utf8("at 21 °C: grüße"));
  lineLog(INFO);`, 'import { unusedText } from "./unused";');
  const { wasm } = await buildPlugin(plugin);
  const { logs } = loadPlugin(wasm);
  assert.deepEqual(logs, [{ level: 30, message: 'tank at 21 °C: grüße' }, { level: 30, message: 'at 21 °C: grüße' }]);
  const module = readFileSync(wasm);
  const occurrences = (bytes: Buffer) => {
    let n = 0;
    for (let at = module.indexOf(bytes); at >= 0; at = module.indexOf(bytes, at + 1)) n++;
    return n;
  };
  assert.equal(occurrences(Buffer.from('at 21 °C: grüße', 'utf8')), 1, 'a text written twice in a file is stored once');
  assert.equal(occurrences(Buffer.from('at 21 °C: grüße', 'utf16le')), 0, 'no UTF-16 copy of the text');
  assert.equal(occurrences(Buffer.from('a text no call reaches', 'utf8')), 0, 'a file imported but not used adds no text');
});

test('utf8() of anything but a literal stops the build, saying why', async (t) => {
  const plugin = await buildProbe(t, `  const text = "not a literal in the call";
  lineStart();
  lineUtf8(utf8(text));
  lineLog(INFO);`);
  await assert.rejects(buildPlugin(plugin), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_BUILD') && /utf8\(\) takes a string literal, written in the call/.test(String(err.context.detail)));
});
