// The SDK's input region at any size (issue 6, "Bounded input"). What broke: wg_input doubled its
// capacity in an i32, so above 1 GiB the capacity went negative, then 0, and the loop never ended
// (the host's thread spun forever); a refused growth trapped inside the allocator without a word;
// and every growth left the old region behind, so a host sending ever larger batches grew the
// plugin's memory to about twice what the regions themselves needed. The built modbus decoder is
// the plugin under test (its wg_frame_length and wg_process take input through the SDK), loaded with
// the plugin harness, so each call goes the way the gateway makes it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPlugin, PluginInstance, type LoadedPlugin } from '../../src/host/engine/harness.js';
import type { PluginLogLine } from '../../src/host/engine/plugin-instance.js';
import { v8Engine } from '../../src/host/engine/engine.js';
import { isWgError } from '../../src/host/errors.js';
import { answer, decodeRecords, registerPdu, settingsDocument, tcpAdu, type PointSetting } from '../support/modbus-plugin.js';
import { builtPluginPath } from '../support/plugins.js';

const PAGE = 65_536;
const GIB = 2 ** 30;
/** The largest region the SDK hands out (plugins/sdk/io.ts, MAX_REGION): 2^30 less 16. */
const MAX_REGION = GIB - 16;

function load(wasm = builtPluginPath('modbus')): LoadedPlugin {
  return loadPlugin(wasm, {
    with: { transport: 'tcp', max_registers: 125, max_bits: 2000, max_gap: 0 }, // what the gateway hands over
    devices: [{ name: 'plc1', unit_id: 1 }],
    points: [{ name: 'boiler.temp', function: 3, address: 0, type: 'int16' }],
  });
}

/**
 * The built decoder under the host's memory cap of `capBytes` (the pipeline's plugin_memory), configured
 * with `points` of device plc1 (unit 1).
 */
function capped(capBytes: number, points: PointSetting[] = [{ name: 'boiler.temp', function: 3, address: 0, type: 'int16' }]): LoadedPlugin {
  const file = builtPluginPath('modbus');
  const compiled = v8Engine.compile(readFileSync(file), 'modbus', file, undefined, { memoryLimitBytes: capBytes });
  const logs: PluginLogLine[] = [];
  const instance = new PluginInstance(compiled, { onLog: (line) => logs.push(line) });
  instance.configure(settingsDocument({ devices: [{ name: 'plc1', unit_id: 1 }], points }));
  return { instance, logs };
}

/** `size` bytes starting with an 11-byte Modbus TCP response (MBAP length 5), zeros after it. */
function received(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(tcpAdu(1, 1, [3, 2, 0, 5]).subarray(0, size));
  return bytes;
}

/** The plugin still decodes: 0xFFFE in the register is -2 as int16 (two's complement). */
function assertStillDecodes(plugin: LoadedPlugin, why: string): void {
  const [sample] = decodeRecords(plugin.instance, [answer(plugin.instance, 0, registerPdu(3, [0xfffe]))]);
  assert.equal(sample?.value, -2, why);
}

test('wg_input gives a whole region at 0, 1 and page edges, and the plugin keeps working', () => {
  const plugin = load();
  for (const size of [0, 1, 6, 11, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 1, 1]) {
    // A region short of `size` within memory would make the host's copy throw a RangeError.
    assert.equal(plugin.instance.frameLength(received(size)), size < 11 ? 0 : 11, `size ${size}`);
    assert.ok(plugin.instance.memoryBytes >= size, `size ${size}`);
    assertStillDecodes(plugin, `after an input of ${size} bytes`);
  }
});

test('wg_input above the largest region traps with the size in the log, and does not loop', () => {
  for (const size of [GIB, 2 ** 31 - 1]) {
    const plugin = load();
    const before = plugin.instance.memoryBytes;
    // Zero-filled buffers of this size are mapped lazily: nothing is copied, because wg_input refuses first.
    assert.throws(() => plugin.instance.frameLength(new Uint8Array(size)), (err: unknown) => {
      assert.ok(isWgError(err, 'WG_ERR_PLUGIN_TRAP'), String(err));
      assert.match(err.message, /wg_input: unreachable/);
      assert.match(err.message, new RegExp(`input region of ${size} bytes: more than a region can hold \\(1073741808 bytes\\)`));
      return true;
    });
    assert.equal(plugin.instance.memoryBytes, before, 'no memory is taken for a size that cannot fit');
    assertStillDecodes(load(), 'a fresh instance works');
  }
});

test('the largest region is handed out whole, one byte more is refused', () => {
  // Called on the raw exports, not through the harness: the harness would copy a whole GiB into the
  // plugin's memory, and this test only needs where the region lies. Memory that is reserved but
  // never written costs no RSS. The host's cap is raised to 2 GiB so that only the SDK's limit counts.
  const file = builtPluginPath('modbus');
  const compiled = v8Engine.compile(readFileSync(file), 'modbus', file, undefined, { memoryLimitBytes: 2 * GIB });
  const exports = v8Engine.instantiate(compiled, { log: () => {}, now: () => 0 });
  const wgInput = exports.wg_input as (size: number) => number;
  const memory = exports.memory as WebAssembly.Memory;
  const at = wgInput(MAX_REGION);
  assert.ok(at > 0 && at + MAX_REGION <= memory.buffer.byteLength, `region at ${at} in ${memory.buffer.byteLength} bytes`);
  assert.equal(wgInput(MAX_REGION), at, 'the same size again reuses the region');
  assert.throws(() => wgInput(MAX_REGION + 1), WebAssembly.RuntimeError);
});

test('a growth the host refuses traps cleanly in wg_input, and a fresh instance works', () => {
  // The host caps the plugin's memory at 1 MiB (plugin_memory).
  const plugin = capped(16 * PAGE);
  assert.equal(plugin.instance.frameLength(received(256 * 1024)), 11, 'within the maximum, input works');
  assert.throws(() => plugin.instance.frameLength(received(2 * 1024 * 1024)), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_TRAP'), String(err));
    assert.match(err.message, /wg_input: unreachable/);
    assert.match(err.message, /input region of \d+ bytes: the host refused to grow memory/);
    return true;
  });
  assert.ok(plugin.instance.memoryBytes <= 16 * PAGE);
  assert.deepEqual(plugin.logs.filter((l) => l.level === 50).map((l) => l.message), [
    `input region of ${2 * 1024 * 1024} bytes: the host refused to grow memory`,
  ]);
  assertStillDecodes(capped(16 * PAGE), 'a fresh instance under the same cap works');
});

test('an output region the host refuses to grow traps cleanly in the data call', () => {
  // 125 registers in one read: each 270-byte answer decodes to 125 samples (3000 bytes), so 400 of
  // them fit the input under a 1 MiB cap and their output does not.
  const plugin = capped(16 * PAGE, Array.from({ length: 125 }, (_, i) => ({ name: `r${i}`, function: 3, address: i, type: 'uint16' })));
  const words = Array.from({ length: 125 }, (_, i) => i);
  const records = Array.from({ length: 400 }, (_, i) => answer(plugin.instance, 0, registerPdu(3, words), { seq: i }));
  assert.equal(decodeRecords(plugin.instance, records.slice(0, 4)).length, 4 * 125, 'a batch that fits decodes');
  assert.throws(() => decodeRecords(plugin.instance, records), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_TRAP'), String(err));
    assert.match(err.message, /wg_process: unreachable/);
    assert.match(err.message, /output region of \d+ bytes: the host refused to grow memory/);
    return true;
  });
});

test('growing inputs do not leave their old regions behind', () => {
  const plugin = load();
  const before = plugin.instance.memoryBytes;
  const largest = 3_000_000;
  for (let size = 100_000; size <= largest; size += 100_000) plugin.instance.frameLength(received(size));
  // The region at most doubles past the largest input; a region left behind at each growth would
  // add up to about as much again.
  const grown = plugin.instance.memoryBytes - before;
  assert.ok(grown <= 2 * largest + PAGE, `memory grew by ${grown} bytes for inputs up to ${largest}`);
  assertStillDecodes(plugin, 'after the largest input'); // its first output region
  const settled = plugin.instance.memoryBytes;
  for (let i = 0; i < 20; i++) {
    plugin.instance.frameLength(received(i % 2 === 0 ? largest : 10));
    assertStillDecodes(plugin, `round ${i}`);
  }
  assert.equal(plugin.instance.memoryBytes, settled, 'inputs and outputs of sizes seen before take no more memory');
});
