// The host's cap on plugin memory (memory-limit.ts): the module's memory section is rewritten so the
// engine itself refuses growth past the cap. Checked against V8's own behaviour: Memory.grow throws
// and memory.grow returns -1 past the maximum the module declares.
import test from 'node:test';
import assert from 'node:assert/strict';
import binaryen from 'binaryen';
import { capModuleMemory, MAX_TABLES, TABLE_MAX_ENTRIES, WASM_PAGE_BYTES } from '../../src/host/engine/memory-limit.js';
import { v8Engine } from '../../src/host/engine/engine.js';
import { isWgError } from '../../src/host/errors.js';
import { watBytes, watFixturePath } from '../support/plugins.js';

function wasm(memory: string): Uint8Array {
  const module = binaryen.parseText(`(module ${memory} (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);
  try {
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

function instantiate(bytes: Uint8Array): { memory: WebAssembly.Memory; grow(pages: number): number } {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  return exports as unknown as { memory: WebAssembly.Memory; grow(pages: number): number };
}

const MiB = 1024 * 1024;

test('a memory with no maximum gets the cap as its maximum; growth past it is refused by the engine', () => {
  const capped = capModuleMemory(wasm('(memory (export "memory") 1)'), 4 * MiB, 'p', 'p.wasm');
  assert.deepEqual(capped.limits, { initialPages: 1, declaredMaxPages: null, maxPages: 64 }); // 4 MiB / 64 KiB
  const { memory, grow } = instantiate(capped.bytes);
  assert.equal(grow(63), 1, 'up to the cap: the old size in pages');
  assert.equal(memory.buffer.byteLength, 64 * WASM_PAGE_BYTES);
  assert.equal(grow(1), -1, 'one page past the cap is refused inside the module');
  assert.throws(() => memory.grow(1), RangeError, 'and from outside');
});

test('a declared maximum below the cap is kept; one above it is lowered', () => {
  assert.equal(capModuleMemory(wasm('(memory (export "memory") 1 8)'), 4 * MiB, 'p', 'p.wasm').limits!.maxPages, 8);
  const lowered = capModuleMemory(wasm('(memory (export "memory") 2 65536)'), 16 * MiB, 'p', 'p.wasm');
  assert.deepEqual(lowered.limits, { initialPages: 2, declaredMaxPages: 65536, maxPages: 256 });
  assert.equal(instantiate(lowered.bytes).grow(255), -1);
});

test('LEB128 sizes of different widths re-encode into a valid module (cap of 4 GiB = 65536 pages, 3 bytes)', () => {
  const capped = capModuleMemory(wasm('(memory (export "memory") 1)'), 4 * 1024 * MiB, 'p', 'p.wasm');
  assert.equal(capped.limits!.maxPages, 65536);
  assert.ok(WebAssembly.validate(capped.bytes));
});

test('a module that starts above the cap is refused, naming both sizes', () => {
  assert.throws(() => capModuleMemory(wasm('(memory (export "memory") 128)'), 4 * MiB, 'big', 'big.wasm'), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_MEMORY') && /starts with 8 MiB of memory, more than the pipeline's plugin_memory of 4 MiB/.test(err.message));
});

test('the engine caps every module it compiles (default 16 MiB): the grow-until-refused fixture stops there', () => {
  const plugin = v8Engine.compile(watBytes('grow-until-refused'), 'grow-until-refused', watFixturePath('grow-until-refused'));
  assert.equal(plugin.memory!.maxPages, 64, 'its own 64-page maximum is below the default cap');
  const bomb = v8Engine.compile(watBytes('memory-bomb'), 'memory-bomb', watFixturePath('memory-bomb'));
  assert.deepEqual(bomb.memory, { initialPages: 1, declaredMaxPages: null, maxPages: 256 });
});

// Tables are host memory plugin_memory did not hold: the table-bomb fixture grew four tables by ten
// million entries each in one batch (320 MB on the worker's heap), and under the unit's
// --max-old-space-size=96 V8 aborted the whole daemon (FATAL ERROR: Reached heap limit).
function withTables(tables: string): Uint8Array {
  const module = binaryen.parseText(`(module (memory (export "memory") 1) ${tables}
    (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null extern) (local.get 0))))`);
  try {
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

test('a table gets TABLE_MAX_ENTRIES as its maximum: table.grow past it returns -1 instead of allocating', () => {
  const capped = capModuleMemory(withTables('(table 0 externref)'), 4 * MiB, 'p', 'p.wasm');
  const { grow } = new WebAssembly.Instance(new WebAssembly.Module(capped.bytes)).exports as unknown as { grow(n: number): number };
  assert.equal(grow(10_000_000), -1, 'the ten-million-entry growth is refused');
  assert.equal(grow(TABLE_MAX_ENTRIES), 0, 'growth up to the cap still works');
  assert.equal(grow(1), -1);
  assert.equal(capModuleMemory(wasm('(memory (export "memory") 1)'), 4 * MiB, 'p', 'p.wasm').limits!.maxPages, 64, 'a module without tables is capped as before');
});

test('a table that starts above TABLE_MAX_ENTRIES, or more than MAX_TABLES tables, is refused', () => {
  assert.throws(() => capModuleMemory(withTables(`(table ${TABLE_MAX_ENTRIES + 1} externref)`), 4 * MiB, 'big', 'big.wasm'), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_MEMORY') && /table 0 starts with 65537 entries/.test(err.message));
  const many = Array.from({ length: MAX_TABLES + 1 }, () => '(table 1 externref)').join(' ');
  assert.throws(() => capModuleMemory(withTables(many), 4 * MiB, 'many', 'many.wasm'), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_MEMORY') && /defines 5 tables/.test(err.message));
});
