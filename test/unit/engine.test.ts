// The engine refuses modules that do not follow ABI v1, naming every problem, and contains traps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { v8Engine } from '../../src/host/engine/engine.js';
import { takesUnsolicited } from '../../src/host/engine/abi.js';
import { MAX_STATS_BYTES, PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { isWgError, WgError } from '../../src/host/errors.js';
import { watBytes, watFixturePath } from '../support/plugins.js';

function compileFixture(name: string) {
  return v8Engine.compile(watBytes(name), name, watFixturePath(name));
}

function abiProblems(name: string): string[] {
  try {
    compileFixture(name);
  } catch (err) {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_ABI'), `expected WG_ERR_PLUGIN_ABI, got ${String(err)}`);
    assert.equal(err.context.file, watFixturePath(name), 'the error names the plugin file');
    return err.context.problems as string[];
  }
  assert.fail(`${name} was accepted`);
}

test('a module missing required exports is refused with each one named', () => {
  const problems = abiProblems('missing-export');
  assert.ok(problems.includes('missing required export "wg_output" (function)'));
  assert.ok(problems.includes('missing required export "wg_process" (function)'));
  assert.ok(problems.includes('export "memory" is a function, expected a memory'));
  assert.equal(problems.length, 3);
});

test('a module built for another ABI version is refused before instantiation', () => {
  assert.deepEqual(abiProblems('wrong-abi'), ['built for ABI v2, this host speaks v1']);
});

test('every ungranted import is named by namespace and name', () => {
  assert.deepEqual(abiProblems('ungranted-import'), [
    'imports function "wasi_snapshot_preview1.fd_write", which the host does not grant',
    'imports function "env.abort", which the host does not grant',
  ]);
});

test('an incomplete write group (ABI 1.2) names what is missing', () => {
  assert.deepEqual(abiProblems('incomplete-writes'), ['incomplete write group: has wg_write but misses wg_write_check']);
});

test('an incomplete subscription group (ABI 1.6) names what is missing', () => {
  assert.deepEqual(abiProblems('incomplete-subscriptions'), ['incomplete subscription group: has wg_subscriptions, wg_subscribe but misses wg_subscribe_check']);
});

test('minor versions only add: a manifest of 1 to 1.6 loads; one of a minor newer than the host is refused', () => {
  for (const abi of [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]) assert.doesNotThrow(() => v8Engine.compile(watBytes('polling-false-framing'), 'p', 'p.wasm', abi), String(abi));
  assert.throws(() => v8Engine.compile(watBytes('polling-false-framing'), 'p', 'p.wasm', 1.7), /manifest declares abi 1\.7, this host speaks up to 1\.6/);
});

test('unsolicited frames (ABI 1.4) go only to decoders that declare 1.4 or later', () => {
  assert.deepEqual([undefined, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 2.4].map(takesUnsolicited), [false, false, false, false, false, true, true, false]);
});

test('an incomplete state group (ABI 1.3) names what is missing', () => {
  assert.deepEqual(abiProblems('incomplete-state'), ['incomplete state group: has wg_snapshot but misses wg_restore']);
});

test('an incomplete polling group names what is missing', () => {
  assert.deepEqual(abiProblems('incomplete-polling'), [
    'incomplete polling group: has wg_requests but misses wg_request, wg_frame_length',
  ]);
});

test('bytes that are not WebAssembly give WG_ERR_PLUGIN_COMPILE', () => {
  assert.throws(() => v8Engine.compile(new Uint8Array([0, 1, 2, 3]), 'junk', 'junk.wasm'), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_COMPILE'));
});

test('a trap becomes WG_ERR_PLUGIN_TRAP and poisons the instance', () => {
  const instance = new PluginInstance(compileFixture('trap'), { context: { pipeline: 'p', step: 1 } });
  instance.configure({});
  assert.throws(() => instance.process(new Uint8Array(8)), (err: unknown) => {
    assert.ok(err instanceof WgError && err.code === 'WG_ERR_PLUGIN_TRAP');
    assert.equal(err.context.plugin, 'trap');
    assert.equal(err.context.pipeline, 'p');
    assert.match(err.message, /wg_process: unreachable/);
    return true;
  });
  assert.equal(instance.poisoned, true);
  assert.throws(() => instance.process(new Uint8Array(8)), /poisoned/);
});

test('a fresh instance of a module that trapped once works again', () => {
  const compiled = compileFixture('trap-once');
  const first = new PluginInstance(compiled);
  first.configure({});
  assert.throws(() => first.process(new Uint8Array(8)), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_TRAP'));
  const input = new Uint8Array([1, 2, 3, 4]);
  assert.equal(first.poisoned, true);
  const second = new PluginInstance(compiled);
  second.configure({});
  assert.throws(() => second.process(input), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_TRAP'), 'fresh instance traps on its own first call');
  assert.equal(new PluginInstance(compiled).poisoned, false);
});

test('a plugin that grows memory until refused reports NO_MEMORY as a status error', () => {
  const instance = new PluginInstance(compileFixture('grow-until-refused'));
  instance.configure({});
  assert.throws(() => instance.process(new Uint8Array(8)), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_STATUS'));
    assert.match(err.message, /WG_STATUS_NO_MEMORY/);
    return true;
  });
  assert.equal(instance.memoryBytes, 64 * 65536, 'grew to its declared maximum and no further');
  assert.equal(instance.poisoned, false, 'a status is not a trap');
});

// A wg_stats that answered with 16 MiB of JSON was decoded and parsed at every counters report (once a
// second): the daemon went from 130 to 270 MB RSS. Past MAX_STATS_BYTES the host reads nothing.
test('a wg_stats output longer than MAX_STATS_BYTES is refused unread, as an error status', () => {
  const instance = new PluginInstance(compileFixture('stats-bomb'));
  instance.configure({});
  assert.throws(() => instance.stats(), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_STATUS') && new RegExp(`wg_stats output of 4194308 bytes; at most ${MAX_STATS_BYTES}`).test(err.message));
  assert.equal(instance.poisoned, false, 'a refusal is not a trap');
});
