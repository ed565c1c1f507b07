/**
 * Rule evaluations per second (target: >= 20 M simple rule evaluations/s on one core): the compiled
 * rule module (rule-compiler.ts, run as the pipeline worker runs it: a batch copied into the
 * instance's memory, wg_process, the events read back) against the reference interpreter
 * (rule-interpreter.ts) on the same batches in the same run. A "simple rule" is one comparison of a
 * point with a threshold (`p17 > 50`); a rule evaluation is one rule evaluated on one sample of a
 * point it reads. Values wander around the thresholds, so rules fire and clear as they go (the events
 * are counted and printed: both evaluators must agree on them).
 */
import { parseExpression } from '../src/host/rules/expression-parser.js';
import { checkCondition, RuleTables, type RulePoint } from '../src/host/rules/expression-check.js';
import { RuleInterpreter } from '../src/host/rules/rule-interpreter.js';
import { CompiledRules, compileRuleSet } from '../src/host/rules/compiled-rules.js';
import type { Rule, RuleSet } from '../src/host/rules/rule-set.js';
import { WorkerRules } from '../src/host/rules/worker-rules.js';
import { anchorTimeline, processClock } from '../src/host/rules/rule-timeline.js';
import { RepeatLog } from '../src/host/pipeline/repeat-log.js';
import { emitResult, printMachine } from './machine.js';

const POINTS = 100;
const BATCH = 256;

function points(): RulePoint[] {
  return Array.from({ length: POINTS }, (_, id) => ({ id, name: `p${id}`, device: 'plc', deviceIndex: 0, bool: false, text: false, intervalMs: 100, writable: false, range: null }));
}

/** `perPoint` rules on every point, each a threshold of its own (`or`-shaped ones when `shape` says so). */
function ruleSet(perPoint: number, text: (point: number, k: number) => string): RuleSet {
  const lookup = { points: points() };
  const tables = new RuleTables();
  const rules: Rule[] = [];
  for (let p = 0; p < POINTS; p++) {
    for (let k = 0; k < perPoint; k++) {
      const parsed = parseExpression(text(p, k));
      if (!parsed.ok) throw new Error(parsed.error.message);
      const checked = checkCondition(parsed.expr, lookup, tables);
      if (!checked.ok) throw new Error(checked.errors[0]!.message);
      rules.push({
        index: rules.length, name: `r${rules.length}`, origin: 'bench', text: text(p, k), when: checked.checked, clear: null, relaxed: null, forMs: 0,
        severity: 'warning', message: '', points: [...checked.points], interlocks: [],
        actions: { alarmTopic: null, log: 'off', writes: [], rateLimit: { writes: 1, perMs: 1000 }, dryRun: false },
      });
    }
  }
  return { rules, windows: tables.windows, counters: tables.counters, pointCount: POINTS };
}

/** Batches of samples round-robin over the points, values a random walk between 0 and 100. */
function batches(n: number): Uint8Array[] {
  let seed = 42;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const values = new Float64Array(POINTS).fill(50);
  let ts = Date.UTC(2026, 11, 3);
  const out: Uint8Array[] = [];
  for (let b = 0; b < n; b++) {
    const bytes = new Uint8Array(8 + 24 * BATCH);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, BATCH, true);
    for (let i = 0; i < BATCH; i++) {
      const p = (b * BATCH + i) % POINTS;
      values[p] = Math.min(100, Math.max(0, values[p]! + (random() - 0.5) * 10));
      const at = 8 + 24 * i;
      view.setFloat64(at, (ts += 1), true);
      view.setFloat64(at + 8, values[p]!, true);
      view.setUint32(at + 16, p, true);
    }
    out.push(bytes);
  }
  return out;
}

function measure(name: string, perPoint: number, text: (p: number, k: number) => string): void {
  const set = ruleSet(perPoint, text);
  const input = batches(400);
  const samples = input.length * BATCH;
  const interpreter = () => {
    const rules = new RuleInterpreter(set);
    let events = 0;
    const start = process.hrtime.bigint();
    for (const b of input) {
      rules.batch(b);
      events += rules.takeEvents().length;
    }
    return { ns: Number(process.hrtime.bigint() - start), events };
  };
  const plugin = compileRuleSet(set, 'bench');
  const compiled = () => {
    const rules = new CompiledRules(plugin, { pipeline: 'bench' });
    let events = 0;
    const start = process.hrtime.bigint();
    for (const b of input) events += rules.batch(b).length;
    return { ns: Number(process.hrtime.bigint() - start), events };
  };
  // As the pipeline worker runs it: each batch copied and its times put on the rules' timeline first.
  const worker = () => {
    const rules = new WorkerRules(plugin, 'bench', new RepeatLog(() => {}), { anchor: anchorTimeline(processClock), clock: processClock });
    let events = 0;
    const start = process.hrtime.bigint();
    for (const b of input) {
      rules.samples(b);
      events += rules.take().length;
    }
    return { ns: Number(process.hrtime.bigint() - start), events };
  };
  const best = (run: () => { ns: number; events: number }) => {
    let ns = Infinity;
    let events = 0;
    for (let i = 0; i < 7; i++) {
      const one = run();
      ns = Math.min(ns, one.ns);
      events = one.events;
    }
    return { ns, events };
  };
  const c = best(compiled);
  const r = best(interpreter);
  const w = best(worker);
  if (c.events !== r.events) throw new Error(`${name}: compiled made ${c.events} events, the interpreter ${r.events}`);
  if (w.events !== c.events) throw new Error(`${name}: on the timeline the module made ${w.events} events, without ${c.events}`);
  // Each sample evaluates every rule that reads its point (a rule of two points on samples of both).
  const readers = new Array<number>(POINTS).fill(0);
  for (const rule of set.rules) for (const p of rule.points) readers[p]!++;
  const evaluations = readers.reduce((sum, n) => sum + n, 0) * (samples / POINTS);
  const perSecond = (ns: number) => evaluations / (ns / 1e9) / 1e6;
  console.log(`${name}: ${set.rules.length} rules on ${POINTS} points, ${samples} samples, ${c.events} events; module ${plugin.size} bytes`);
  emitResult(`rules compiled, ${name}`, perSecond(c.ns), 'M rule evaluations/s', '>= 20 M/s');
  emitResult(`rules interpreted, ${name}`, perSecond(r.ns), 'M rule evaluations/s');
  emitResult(`rules compiled / interpreted, ${name}`, r.ns / c.ns, '×');
  emitResult(`rules compiled on the timeline (as the worker runs them), ${name}`, perSecond(w.ns), 'M rule evaluations/s');
}

printMachine();
measure('one simple rule per point', 1, (p) => `p${p} > ${40 + (p % 20)}`);
measure('ten simple rules per point', 10, (p, k) => `p${p} > ${10 + k * 8}`);
measure('ten rules per point, two points and an and', 10, (p, k) => `p${p} > ${10 + k * 8} and p${(p + 1) % POINTS} < ${90 - k * 8}`);
