/**
 * The reference evaluator, one condition form per test (docs/rules.md, "How rules are evaluated").
 * Each expected event is worked out by hand from the samples written in the test: the times are
 * milliseconds from T0, the values chosen so that the arithmetic is plain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleInterpreter } from '../../src/host/rules/rule-interpreter.js';
import type { RuleSet } from '../../src/host/rules/rule-set.js';
import { POINTS, ruleSet } from './rules-fixture.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const GOOD = 0, SUSPECT = 1, BAD = 2, NO_COMM = 3;

type Step = [ms: number, point: number, value: number, quality?: number] | [ms: number, 'tick'];

/** Runs the steps; returns `rule fire@ms` / `rule clear@ms` lines (with the interlock mask when set). */
function run(set: RuleSet, steps: readonly Step[]): string[] {
  const rules = new RuleInterpreter(set);
  for (const step of steps) {
    if (step[1] === 'tick') rules.tick(T0 + step[0]);
    else rules.sample(step[1], T0 + step[0], step[2], step[3] ?? GOOD);
  }
  return rules.takeEvents().map((e) => `${set.rules[e.rule]!.name} ${e.kind}@${e.ts - T0}${e.interlocks ? ` interlocks=${e.interlocks}` : ''}`);
}

const { temp, running, stop, temp2, pressure } = POINTS;

test('a comparison fires once when it becomes true and clears once when it stops: no flood while it holds', async () => {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95" }']);
  const steps: Step[] = [[0, temp, 90], [100, temp, 96], [200, temp, 97], [300, temp, 99], [400, 'tick'], [500, temp, 95], [600, temp, 94], [700, temp, 96]];
  // 95 is not above 95: the clear comes at 500.
  assert.deepEqual(run(set, steps), ['hot fire@100', 'hot clear@500', 'hot fire@700']);
});

test('and, or, not, and arithmetic over points of two devices', async () => {
  const set = await ruleSet([
    '  - { name: spread, when: "plc1:boiler.temp - plc2:boiler.temp > 5 and not boiler.running" }',
    '  - { name: either, when: "plc1:boiler.temp * 2 >= 200 or plc2:boiler.temp / 4 < 1" }',
  ]);
  const steps: Step[] = [
    [0, running, 0], [0, temp, 50], [0, temp2, 10], // spread 40 > 5, not running: fires; 50*2=100, 10/4=2.5: either no
    [10, running, 1], // running: spread clears
    [20, temp2, 3], // 3/4 = 0.75 < 1: either fires
    [30, temp, 100], // 200 >= 200: either still holds, nothing
    [40, temp2, 8], // 8/4 = 2, but 100*2 >= 200: holds
    [50, temp, 99.5], // 199 and 2: clears
  ];
  assert.deepEqual(run(set, steps), ['spread fire@0', 'spread clear@10', 'either fire@20', 'either clear@50']);
});

test('min, max and abs', async () => {
  const set = await ruleSet(['  - { name: m, when: "abs(min(plc1:boiler.temp, plc2:boiler.temp) - max(plc1:boiler.temp, 20)) >= 10" }']);
  // temp 25, temp2 12: |12 - 25| = 13 fires; temp2 18: |18 - 25| = 7 clears; temp 10: |10 - 20| = 10 fires.
  assert.deepEqual(run(set, [[0, temp, 25], [0, temp2, 12], [1, temp2, 18], [2, temp, 10]]), ['m fire@0', 'm clear@1', 'm fire@2']);
});

test('quality tests see the latest sample; values keep the latest usable one through a loss of communication', async () => {
  const set = await ruleSet([
    '  - { name: lost, when: "no_comm(plc1:boiler.temp)" }',
    '  - { name: hot, when: "plc1:boiler.temp > 90" }',
    '  - { name: doubtful, when: "suspect(plc1:boiler.temp) or bad(plc1:boiler.temp)" }',
  ]);
  const steps: Step[] = [
    [0, temp, 95, GOOD], // hot fires
    [100, temp, NaN, NO_COMM], // lost fires; hot holds at 95 (no usable value came)
    [200, temp, 93, SUSPECT], // lost clears; doubtful fires; 93 is usable: hot holds
    [300, temp, NaN, BAD], // still doubtful; value stays 93
    [400, temp, 80, GOOD], // doubtful clears, hot clears
  ];
  assert.deepEqual(run(set, steps), ['hot fire@0', 'lost fire@100', 'lost clear@200', 'doubtful fire@200', 'hot clear@400', 'doubtful clear@400']);
});

test('for: the condition must hold that long without a break; a dip starts it again', async () => {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95", for: 10s }']);
  const steps: Step[] = [
    [0, temp, 96], [5_000, temp, 97], [9_999, temp, 98], // 9.999 s: not yet
    [10_500, temp, 94], // dips: starts again
    [11_000, temp, 96], [20_999, 'tick'], [21_000, 'tick'], // 10 s from 11 s: fires on the tick at 21 s
    [22_000, temp, 90],
  ];
  assert.deepEqual(run(set, steps), ['hot fire@21000', 'hot clear@22000']);
});

test('hysteresis: fires above 95, clears only below 95 - 5', async () => {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95", hysteresis: 5 }']);
  const steps: Step[] = [[0, temp, 96], [1, temp, 94], [2, temp, 90.5], [3, temp, 90], [4, temp, 93], [5, temp, 95.5]];
  // 94 and 90.5 are above 90: active; 90 is not above 90: clears; 93 is not above 95: nothing; 95.5 fires.
  assert.deepEqual(run(set, steps), ['hot fire@0', 'hot clear@3', 'hot fire@5']);
});

test('hysteresis on a low limit and under not moves the threshold the other way', async () => {
  const set = await ruleSet(['  - { name: low, when: "not (plc2:boiler.temp >= 10)", hysteresis: 2 }']);
  // fires below 10; while active it holds until temp2 >= 12.
  assert.deepEqual(run(set, [[0, temp2, 9], [1, temp2, 11], [2, temp2, 12], [3, temp2, 9.99]]), ['low fire@0', 'low clear@2', 'low fire@3']);
});

test('clear: a clear condition that overlaps the condition clears once and latches: no fire again until the condition lets go', async () => {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 90", clear: "boiler.running" }']);
  const steps: Step[] = [
    [0, running, 0], [1, temp, 95], // fires
    [2, running, 1], // clears, though temp > 90 still: latched
    [3, running, 0], [4, temp, 96], [5, temp, 97], // still above 90: no fire while latched
    [6, temp, 80], [7, temp, 91], // let go, then true again: fires
  ];
  assert.deepEqual(run(set, steps), ['hot fire@1', 'hot clear@2', 'hot fire@7']);
});

test('stale: no good sample for the duration, counted from the first time seen when there was none', async () => {
  const set = await ruleSet(['  - { name: silent, when: "stale(plc2:boiler.temp, 30s)" }']);
  const steps: Step[] = [
    [0, temp, 1], // the rule set sees its first time: 0
    [29_999, 'tick'], [30_000, 'tick'], // fires: 30 s without a sample of temp2
    [31_000, temp2, 5, SUSPECT], // suspect is not good: still stale
    [32_000, temp2, 5, GOOD], // clears
    [61_999, 'tick'], [62_000, 'tick'], // 30 s after the last good one: fires
  ];
  assert.deepEqual(run(set, steps), ['silent fire@30000', 'silent clear@32000', 'silent fire@62000']);
});

test('rate: change per second between the oldest and newest usable samples of the window', async () => {
  const set = await ruleSet(['  - { name: climbing, when: "rate(plc1:boiler.temp, 10s) > 0.5" }']);
  const steps: Step[] = [
    [0, temp, 20], // one sample: no rate
    [4_000, temp, 21], // 1 per 4 s = 0.25/s
    [8_000, temp, 24], // (24 - 20) / 8 s = 0.5: not above
    [9_000, temp, 25], // 5 / 9 s = 0.56: fires
    [10_000, temp, NaN, NO_COMM], // not usable: the window still 0..9 s
    [14_500, 'tick'], // window 4.5..14.5 s holds 8 s (24) and 9 s (25): 1 / 1 s = 1: active
    [19_500, 'tick'], // window 9.5..19.5 s holds nothing: rate unknown (NaN > 0.5 is false): clears
  ];
  assert.deepEqual(run(set, steps), ['climbing fire@9000', 'climbing clear@19500']);
});

test('count: the times a condition became true within the window', async () => {
  const set = await ruleSet(['  - { name: cycling, when: "count(boiler.running, 1m) >= 3" }']);
  const steps: Step[] = [
    [0, running, 1], [10_000, running, 0], [20_000, running, 1], [20_500, running, 1], // 2 rises (a repeat is not a rise)
    [30_000, running, 0], [40_000, running, 1], // third rise at 40 s: fires
    [60_000, 'tick'], // rises at 0, 20, 40 s; window 0..60 s keeps all three
    [60_001, 'tick'], // the rise at 0 s falls out: 2: clears
  ];
  assert.deepEqual(run(set, steps), ['cycling fire@40000', 'cycling clear@60001']);
});

test('interlocks are evaluated when the rule fires and clears, one bit per write that has one', async () => {
  const set = await ruleSet([
    '  - name: hot',
    '    when: plc1:boiler.temp > 95',
    '    actions:',
    '      write:',
    '        - { point: boiler.stop, value: true, interlock: "boiler.running" }',
    '        - { point: "`tank-level`", value: 0 }',
    '        - { point: "`tank-level`", value: 1, interlock: "boiler.pressure < 10" }',
  ]);
  const steps: Step[] = [[0, running, 1], [0, pressure, 12], [1, temp, 96], [2, running, 0], [3, pressure, 5], [4, temp, 90]];
  // At 1: running (bit 0), pressure 12 is not below 10 (bit 1 clear). At 4: not running, pressure 5: bit 1.
  assert.deepEqual(run(set, steps), ['hot fire@1 interlocks=1', 'hot clear@4 interlocks=2']);
});

test('a sample batch is read as the ABI lays it out; text samples and unknown points are passed over', async () => {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95" }']);
  const batch = new Uint8Array(8 + 3 * 24);
  const view = new DataView(batch.buffer);
  view.setUint32(0, 3, true);
  const put = (i: number, ts: number, value: number, point: number, quality: number, type: number) => {
    const at = 8 + i * 24;
    view.setFloat64(at, ts, true);
    view.setFloat64(at + 8, value, true);
    view.setUint32(at + 16, point, true);
    view.setUint8(at + 20, quality);
    view.setUint8(at + 21, type);
  };
  put(0, T0, 99, temp, GOOD, 2); // text: not read
  put(1, T0 + 1, 99, 4000, GOOD, 0); // no such point
  put(2, T0 + 2, 99, temp, GOOD, 0);
  const rules = new RuleInterpreter(set);
  rules.batch(batch);
  assert.deepEqual(rules.takeEvents().map((e) => [e.kind, e.ts - T0]), [['fire', 2]]);
  void stop;
});
