/**
 * The compiled rule module against the reference evaluator (rule-interpreter.ts) on random rule sets
 * and random inputs: for every seed, rules written as text by a random grammar walk over the fixture's
 * points go through the real loader, both evaluators get the same sample batches and ticks, and their
 * events must be equal, one by one (time, rule, fire or clear, interlock bits). Values are drawn near
 * the thresholds the rules use, with NaN, every quality and clocks that step back now and then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleInterpreter } from '../../src/host/rules/rule-interpreter.js';
import { CompiledRules, compileRuleSet } from '../../src/host/rules/compiled-rules.js';
import type { RuleEvent, RuleSet } from '../../src/host/rules/rule-set.js';
import { POINTS, ruleSet } from './rules-fixture.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMERIC = ['plc1:boiler.temp', 'boiler.pressure', '`tank-level`', 'plc2:boiler.temp'];
const BOOLS = ['boiler.running', 'boiler.stop'];
const ALL = [...NUMERIC, ...BOOLS];
const CONSTANTS = ['0', '1', '2', '95', '-3.5', '10', '0.5'];
const WINDOWS = ['200ms', '1s', '3s', '10s'];
const ORDERINGS = ['<', '<=', '>', '>='];

class Grammar {
  constructor(readonly r: () => number) {}
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.r() * list.length)]!;
  }
  num(depth: number): string {
    const k = depth <= 0 ? this.r() * 2 : this.r() * 9;
    if (k < 1) return this.pick(CONSTANTS);
    if (k < 2) return this.pick(NUMERIC);
    if (k < 3) return `(${this.num(depth - 1)} ${this.pick(['+', '-', '*', '/'])} ${this.num(depth - 1)})`;
    if (k < 4) return `-${this.num(depth - 1)}`;
    if (k < 5) return `abs(${this.num(depth - 1)})`;
    if (k < 6) return `${this.pick(['min', 'max'])}(${this.num(depth - 1)}, ${this.num(depth - 1)})`;
    if (k < 7.5) return `rate(${this.pick(NUMERIC.slice(0, 3))}, ${this.pick(WINDOWS)})`;
    return `count(${this.cond(depth - 1)}, ${this.pick(WINDOWS)})`;
  }
  cond(depth: number): string {
    const k = depth <= 0 ? this.r() * 4 : this.r() * 9;
    if (k < 1.5) return `${this.num(depth - 1)} ${this.pick([...ORDERINGS, '==', '!='])} ${this.num(depth - 1)}`;
    if (k < 2.5) return this.pick(BOOLS);
    if (k < 3.2) return `${this.pick(['good', 'suspect', 'bad', 'no_comm'])}(${this.pick(ALL)})`;
    if (k < 4) return `stale(${this.pick(ALL)}, ${this.pick(WINDOWS)})`;
    if (k < 5) return 'true';
    if (k < 6) return `not ${this.cond(depth - 1)}`;
    if (k < 7.5) return `(${this.cond(depth - 1)} ${this.pick(['and', 'or'])} ${this.cond(depth - 1)})`;
    return `(${this.cond(depth - 1)}) == (${this.cond(depth - 1)})`;
  }
}

function randomRules(r: () => number, n: number): string[] {
  const g = new Grammar(r);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const hysteresis = r() < 0.25;
    const when = hysteresis ? `${g.pick(NUMERIC)} ${g.pick(ORDERINGS)} ${g.num(1)}` : g.cond(3);
    lines.push(`  - name: r${i}`, `    when: ${JSON.stringify(when)}`, `    for: ${g.pick(['0s', '0s', '150ms', '1s'])}`);
    if (hysteresis) lines.push(`    hysteresis: ${g.pick(['0.5', '2', '10'])}`);
    else if (r() < 0.25) lines.push(`    clear: ${JSON.stringify(g.cond(2))}`);
    if (r() < 0.3) lines.push(`    actions: { write: [ { point: boiler.stop, value: true, interlock: ${JSON.stringify(g.cond(1))} }, { point: "\`tank-level\`", value: 1, interlock: ${JSON.stringify(g.cond(1))} } ] }`);
  }
  return lines;
}

const T0 = Date.UTC(2026, 11, 3);
const POINT_IDS = Object.values(POINTS);
const VALUES = [0, 1, 2, 95, 94.5, 96, 10, -3.5, 0.5, 100, NaN];

/** Random batches (with ticks between) over a minute or so; returns both evaluators' events. */
function runBoth(set: RuleSet, r: () => number): { reference: RuleEvent[]; compiled: RuleEvent[] } {
  const reference = new RuleInterpreter(set);
  const compiled = new CompiledRules(compileRuleSet(set, 'p1'), { pipeline: 'p1' });
  const fromReference: RuleEvent[] = [];
  const fromCompiled: RuleEvent[] = [];
  let now = T0;
  for (let b = 0; b < 400; b++) {
    const n = Math.floor(r() * 12);
    const batch = new Uint8Array(8 + 24 * n);
    const view = new DataView(batch.buffer);
    view.setUint32(0, n, true);
    for (let i = 0; i < n; i++) {
      // Mostly forward in steps of up to 300 ms; now and then a sample from a little before.
      now += r() < 0.05 ? -Math.floor(r() * 500) : Math.floor(r() * 300);
      const at = 8 + 24 * i;
      const point = POINT_IDS[Math.floor(r() * POINT_IDS.length)]!;
      const bool = point === POINTS.running || point === POINTS.stop;
      view.setFloat64(at, now, true);
      view.setFloat64(at + 8, bool ? (r() < 0.5 ? 1 : 0) : VALUES[Math.floor(r() * VALUES.length)]!, true);
      view.setUint32(at + 16, point, true);
      view.setUint8(at + 20, r() < 0.7 ? 0 : Math.floor(r() * 4));
      view.setUint8(at + 21, bool ? 1 : 0);
    }
    reference.batch(batch);
    fromReference.push(...reference.takeEvents());
    fromCompiled.push(...compiled.batch(batch));
    if (r() < 0.3) {
      now += Math.floor(r() * 2000);
      reference.tick(now);
      fromReference.push(...reference.takeEvents());
      fromCompiled.push(...compiled.tick(now));
    }
  }
  // The shutdown tick moves nothing in either.
  reference.tick(Infinity);
  fromReference.push(...reference.takeEvents());
  fromCompiled.push(...compiled.tick(Infinity));
  return { reference: fromReference, compiled: fromCompiled };
}

test('compiled rules make exactly the reference evaluator\'s events on random rule sets and inputs', async () => {
  let events = 0;
  let fires = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = prng(seed);
    const set = await ruleSet(randomRules(r, 30));
    const { reference, compiled } = runBoth(set, r);
    assert.deepEqual(compiled, reference, `seed ${seed}`);
    events += reference.length;
    fires += reference.filter((e) => e.kind === 'fire' && e.interlocks !== 0).length;
  }
  // The inputs must make the rules move, or equality says little.
  assert.ok(events > 2000, `only ${events} events over every seed`);
  assert.ok(fires > 20, `only ${fires} fires with an interlock holding`);
});
