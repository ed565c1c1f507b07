/**
 * The rules' state file (rule-state-file.ts) and its named pieces (rule-state-map.ts): what is saved
 * is read back with the timeline; a damaged file, one of the older format or none at all starts the
 * rules fresh, each with its reason. A changed rule set takes back each unchanged rule's state (its
 * `for:` timer goes on), starts a changed or new rule fresh, and names the active alarms whose rule
 * was removed or changed, to be withdrawn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleStateFile } from '../../src/host/rules/rule-state-file.js';
import { StateMapLayout, type StatePatch } from '../../src/host/rules/rule-state-map.js';
import { CompiledRules, compileRuleSet } from '../../src/host/rules/compiled-rules.js';
import type { RuleSet } from '../../src/host/rules/rule-set.js';
import { POINTS, ruleSet } from './rules-fixture.js';

const POINT_KEYS = ['plc1:boiler.temp', 'plc1:boiler.pressure', 'plc1:boiler.running', 'plc1:boiler.stop', 'plc1:tank-level', 'plc2:boiler.temp'];

function sample(ts: number, point: number, value: number): Uint8Array {
  const batch = new Uint8Array(32);
  const view = new DataView(batch.buffer);
  view.setUint32(0, 1, true);
  view.setFloat64(8, ts, true);
  view.setFloat64(16, value, true);
  view.setUint32(24, point, true);
  return batch;
}

/** A fresh module of `set` with `patches` put into its state, as the worker does (WorkerRules.restorePatches). */
function restored(set: RuleSet, patches: readonly StatePatch[]): CompiledRules {
  const rules = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
  const state = rules.snapshot();
  for (const p of patches) state.set(p.bytes, p.offset);
  assert.ok(rules.restore(state));
  return rules;
}

test('a saved state is read back with its timeline; a damaged file, one of format 1 and none start fresh, each saying why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-rules-state-'));
  try {
    const file = new RuleStateFile(dir, 'p1');
    assert.deepEqual(await file.read(), { ok: false, reason: 'no state saved yet' });
    const pieces = new Map([['start', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])], ['rule hot 0123', new Uint8Array(16).fill(9)]]);
    await file.save({ pieces, timeline: { t: 1000.5, wallMs: 2000.25 } });
    const read = await file.read();
    assert.ok(read.ok);
    assert.deepEqual(read.timeline, { t: 1000.5, wallMs: 2000.25 });
    assert.deepEqual([...read.pieces].map(([k, v]) => [k, [...v]]), [...pieces].map(([k, v]) => [k, [...v]]));

    const bytes = await readFile(file.file);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(file.file, bytes);
    const damaged = await file.read();
    assert.match(damaged.ok ? '' : damaged.reason, /damaged/);

    bytes.writeUInt32LE(1, 4);
    await writeFile(file.file, bytes);
    const older = await file.read();
    assert.match(older.ok ? '' : older.reason, /of format 1, not 2/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a changed rule set keeps the unchanged rule\'s for: timer, starts the changed one fresh, and names its active alarm to withdraw', async () => {
  const before = await ruleSet([
    '  - { name: hot, when: "plc1:boiler.temp > 95", for: 10s }',
    '  - { name: warm, when: "plc1:boiler.temp > 50" }',
    '  - { name: gone, when: "plc2:boiler.temp > 50" }',
  ]);
  // hot edited nowhere; warm's threshold changed; gone removed; cool added (before hot: indexes move).
  const after = await ruleSet([
    '  - { name: cool, when: "plc1:boiler.temp < 10" }',
    '  - { name: hot, when: "plc1:boiler.temp > 95", for: 10s }',
    '  - { name: warm, when: "plc1:boiler.temp > 60" }',
  ]);
  const running = new CompiledRules(compileRuleSet(before, 'p1'), { pipeline: 'p1' });
  // At 0 s: hot pending, warm fires; gone fires on plc2.
  assert.deepEqual(running.batch(sample(0, POINTS.temp, 99)).map((e) => [e.rule, e.kind]), [[1, 'fire']]);
  assert.deepEqual(running.batch(sample(1, POINTS.temp2, 99)).map((e) => [e.rule, e.kind]), [[2, 'fire']]);
  const saved = new StateMapLayout(before, POINT_KEYS).take(running.snapshot(), [
    { rule: 'warm', topic: 'a/warm', severity: 'major', condition: 'plc1:boiler.temp > 50' },
    { rule: 'gone', topic: 'a/gone', severity: 'minor', condition: 'plc2:boiler.temp > 50' },
  ]);

  const layout = new StateMapLayout(after, POINT_KEYS);
  const { patches, keptRules, activeRules } = layout.merge(saved);
  assert.deepEqual(keptRules, [1], 'hot alone is kept');
  assert.deepEqual(activeRules, [], 'hot was pending, not active');
  assert.deepEqual(layout.withdrawn(saved).map((a) => [a.rule, a.topic, a.severity]), [['warm', 'a/warm', 'major'], ['gone', 'a/gone', 'minor']]);

  const next = restored(after, patches);
  // hot's for: goes on from 0 s: not at 9.999 s, at 10 s. warm starts fresh and fires on the next
  // evaluation (99 > 60, the latest value kept under plc1:boiler.temp).
  assert.deepEqual(next.tick(9_999).map((e) => [e.rule, e.kind]), [[2, 'fire']]);
  assert.deepEqual(next.tick(10_000).map((e) => [e.rule, e.kind]), [[1, 'fire']]);
});

test('the same rule set takes back every rule; an active alarm stays active and is not withdrawn', async () => {
  const set = await ruleSet(['  - { name: warm, when: "plc1:boiler.temp > 50", hysteresis: 5 }']);
  const running = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
  assert.equal(running.batch(sample(0, POINTS.temp, 99)).length, 1);
  const layout = new StateMapLayout(set, POINT_KEYS);
  const saved = layout.take(running.snapshot(), []);
  const { patches, activeRules } = layout.merge(saved);
  assert.deepEqual(activeRules, [0]);
  assert.deepEqual(layout.withdrawn(saved), []);
  const next = restored(set, patches);
  assert.deepEqual(next.batch(sample(1, POINTS.temp, 99)), [], 'no second fire');
  assert.deepEqual(next.batch(sample(2, POINTS.temp, 44)).map((e) => e.kind), ['clear']);
});

test('a rule whose writes changed is another rule (its alarm withdrawn); one whose severity or message changed keeps its state', async () => {
  const write = (value: string) => `actions: { write: [ { point: boiler.stop, value: ${value}, on_clear: false } ] }`;
  const before = await ruleSet([
    `  - { name: trip, when: "plc1:boiler.temp > 50", ${write('true')} }`,
    '  - { name: note, when: "plc1:boiler.temp > 40", severity: minor, message: before }',
  ]);
  const after = await ruleSet([
    `  - { name: trip, when: "plc1:boiler.temp > 50", ${write('false')} }`,
    '  - { name: note, when: "plc1:boiler.temp > 40", severity: major, message: after }',
  ]);
  const running = new CompiledRules(compileRuleSet(before, 'p1'), { pipeline: 'p1' });
  assert.equal(running.batch(sample(0, POINTS.temp, 99)).length, 2);
  const saved = new StateMapLayout(before, POINT_KEYS).take(running.snapshot(), []);
  const layout = new StateMapLayout(after, POINT_KEYS);
  assert.deepEqual(layout.merge(saved).activeRules, [1]);
  assert.deepEqual(layout.withdrawn(saved).map((a) => a.rule), ['trip']);
});

test('a point added since the state was saved counts its stale() from the start that took the state back, not from the first time ever seen', async () => {
  const set = await ruleSet(['  - { name: silent, when: "stale(plc2:boiler.temp, 30s)" }']);
  // Saved when plc2's point had another name: the new one is not in the saved state.
  const beforeKeys = [...POINT_KEYS.slice(0, 5), 'plc2:boiler.temp-old'];
  const running = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
  running.batch(sample(0, POINTS.temp, 20));
  const saved = new StateMapLayout(set, beforeKeys).take(running.snapshot(), []);
  // Taken back at 100 s on the timeline: stale from 100 s, so it fires at 130 s, not at once.
  const next = restored(set, new StateMapLayout(set, POINT_KEYS).merge(saved, 100_000).patches);
  assert.deepEqual(next.tick(129_999), []);
  assert.deepEqual(next.tick(130_000).map((e) => e.kind), ['fire']);
});
