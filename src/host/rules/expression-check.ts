/**
 * Checks a parsed expression against the pipeline's points and turns it into the checked tree the
 * evaluators run (expression.ts): every point reference resolved to a point id, every node given a
 * type (number or condition), each rate() and count() entered once in the rule set's tables. Errors
 * carry the span of the node they concern.
 */
import type { Checked, Expr, Span } from './expression.js';
import { QUALITY_TESTS, type QualityTest } from './expression.js';
import type { EventCounter, RateWindow } from './rule-set.js';
import type { WriteRange } from './write-range.js';
import type { BacnetWriteKind } from '../sources/bacnet-writable.js';

/** A point as the rules see it. */
export interface RulePoint {
  readonly id: number;
  readonly name: string;
  readonly device: string;
  readonly deviceIndex: number;
  readonly bool: boolean;
  readonly text: boolean;
  /** Its device's poll interval, ms: how many samples a window holds. */
  readonly intervalMs: number;
  readonly writable: boolean;
  /** A number point that can be written: what a write's value must fit (write-range.ts); null otherwise. */
  readonly range: WriteRange | null;
  /** A BACnet point's present-value datatype when it is written (bacnet-writable.ts); null for every other point. */
  readonly bacnetWrite?: BacnetWriteKind | null;
  /** A BACnet point's `write_priority`, null when it has none (the device then takes 16). */
  readonly writePriority?: number | null;
}

export interface PointLookup {
  readonly points: readonly RulePoint[];
}

export interface CheckError {
  readonly span: Span;
  readonly message: string;
}

/** Samples a rate() window may keep. At a 100 ms poll that is 6.8 minutes; longer windows want a slower point. */
export const MAX_WINDOW_SAMPLES = 4096;
/** Rises a count() keeps: the count saturates here. */
export const COUNTER_CAPACITY = 256;
/** Longest window or staleness: a day (windows hold samples in memory; staleness beyond a day is a daily report). */
export const MAX_WINDOW_MS = 24 * 3_600_000;

type Typed = { checked: Checked; type: 'number' | 'bool' };

/** The rule set's tables, shared by every rule of a pipeline, so that one window serves every rule that names it. */
export class RuleTables {
  readonly windows: RateWindow[] = [];
  readonly counters: EventCounter[] = [];

  window(point: number, ms: number, capacity: number): number {
    const found = this.windows.findIndex((w) => w.point === point && w.ms === ms);
    if (found >= 0) return found;
    this.windows.push({ point, ms, capacity });
    return this.windows.length - 1;
  }

  counter(condition: Checked, ms: number, points: readonly number[]): number {
    const key = JSON.stringify(condition);
    const found = this.counters.findIndex((c) => c.ms === ms && JSON.stringify(c.condition) === key);
    if (found >= 0) return found;
    this.counters.push({ condition, ms, capacity: COUNTER_CAPACITY, points });
    return this.counters.length - 1;
  }
}

/** What checking an expression found: the tree and the points it reads, or every error. */
export type CheckResult = { ok: true; checked: Checked; points: Set<number> } | { ok: false; errors: CheckError[] };

export function checkCondition(expr: Expr, lookup: PointLookup, tables: RuleTables): CheckResult {
  const checker = new Checker(lookup, tables);
  const typed = checker.typed(expr);
  if (typed && typed.type !== 'bool') checker.fail(expr.span, `this is a number, and a condition is needed: compare it (${snippet(expr)} > 0), or test it (good(), stale() …)`);
  if (checker.errors.length > 0 || !typed) return { ok: false, errors: checker.errors };
  return { ok: true, checked: typed.checked, points: checker.points };
}

function snippet(expr: Expr): string {
  return expr.kind === 'point' ? (expr.device ? `${expr.device}:${expr.name}` : expr.name) : '…';
}

class Checker {
  readonly errors: CheckError[] = [];
  readonly points = new Set<number>();
  readonly #lookup: PointLookup;
  readonly #tables: RuleTables;

  constructor(lookup: PointLookup, tables: RuleTables) {
    this.#lookup = lookup;
    this.#tables = tables;
  }

  fail(span: Span, message: string): undefined {
    this.errors.push({ span, message });
    return undefined;
  }

  typed(expr: Expr): Typed | undefined {
    switch (expr.kind) {
      case 'number':
        return { checked: { kind: 'number', value: expr.value }, type: 'number' };
      case 'bool':
        return { checked: { kind: 'bool', value: expr.value }, type: 'bool' };
      case 'duration':
        return this.fail(expr.span, 'a duration stands only as the window of stale(), rate() or count()');
      case 'point': {
        const point = this.#point(expr);
        if (!point) return undefined;
        return point.bool ? { checked: { kind: 'truthy', point: point.id }, type: 'bool' } : { checked: { kind: 'value', point: point.id }, type: 'number' };
      }
      case 'neg': {
        const arg = this.#number(expr.arg, 'after -');
        return arg && { checked: { kind: 'neg', arg }, type: 'number' };
      }
      case 'not': {
        const arg = this.#condition(expr.arg, 'after not');
        return arg && { checked: { kind: 'not', arg }, type: 'bool' };
      }
      case 'arith': {
        const left = this.#number(expr.left, `left of ${expr.op}`);
        const right = this.#number(expr.right, `right of ${expr.op}`);
        return left && right && { checked: { kind: 'arith', op: expr.op, left, right }, type: 'number' };
      }
      case 'logic': {
        const left = this.#condition(expr.left, `left of ${expr.op}`);
        const right = this.#condition(expr.right, `right of ${expr.op}`);
        return left && right && { checked: { kind: 'logic', op: expr.op, left, right }, type: 'bool' };
      }
      case 'compare':
        return this.#compare(expr);
      case 'call':
        return this.#call(expr);
    }
  }

  #compare(expr: Extract<Expr, { kind: 'compare' }>): Typed | undefined {
    const left = this.typed(expr.left);
    const right = this.typed(expr.right);
    if (!left || !right) return undefined;
    if (left.type !== right.type) {
      return this.fail(expr.span, `${expr.op} compares a ${words(left.type)} with a ${words(right.type)}: compare numbers with numbers, conditions with conditions`);
    }
    if (left.type === 'bool' && expr.op !== '==' && expr.op !== '!=') return this.fail(expr.span, `${expr.op} orders numbers; conditions compare with == or !=`);
    if (left.type === 'bool') {
      // Two conditions are equal when both hold or neither does: == of their truth values.
      const eq: Checked = { kind: 'logic', op: 'or', left: { kind: 'logic', op: 'and', left: left.checked, right: right.checked }, right: { kind: 'logic', op: 'and', left: { kind: 'not', arg: left.checked }, right: { kind: 'not', arg: right.checked } } };
      return { checked: expr.op === '==' ? eq : { kind: 'not', arg: eq }, type: 'bool' };
    }
    return { checked: { kind: 'compare', op: expr.op, left: left.checked, right: right.checked }, type: 'bool' };
  }

  #call(expr: Extract<Expr, { kind: 'call' }>): Typed | undefined {
    const { fn, args } = expr;
    const arity = (n: number) => args.length === n || void this.fail(expr.span, `${fn}() takes ${n} argument${n === 1 ? '' : 's'} (got ${args.length})`);
    if (Object.hasOwn(QUALITY_TESTS, fn)) {
      if (!arity(1)) return undefined;
      const point = this.#pointArg(args[0]!, fn);
      return point && { checked: { kind: 'quality', point: point.id, quality: QUALITY_TESTS[fn as QualityTest] }, type: 'bool' };
    }
    switch (fn) {
      case 'stale': {
        if (!arity(2)) return undefined;
        const point = this.#pointArg(args[0]!, fn);
        const ms = this.#window(args[1]!, fn);
        return point && ms !== undefined ? { checked: { kind: 'stale', point: point.id, ms }, type: 'bool' } : undefined;
      }
      case 'rate': {
        if (!arity(2)) return undefined;
        const point = this.#pointArg(args[0]!, fn);
        const ms = this.#window(args[1]!, fn);
        if (!point || ms === undefined) return undefined;
        if (point.bool) return this.fail(args[0]!.span, `rate() of ${point.name}, a bool point: count() its changes instead`);
        // Two more than the window holds at the poll interval: the sample at each end.
        const capacity = Math.ceil(ms / Math.max(1, point.intervalMs)) + 2;
        if (capacity > MAX_WINDOW_SAMPLES) {
          return this.fail(args[1]!.span, `a ${ms} ms window of ${point.name} (polled every ${point.intervalMs} ms) holds ${capacity} samples; at most ${MAX_WINDOW_SAMPLES}: shorten the window or poll the device less often`);
        }
        return { checked: { kind: 'rate', window: this.#tables.window(point.id, ms, capacity) }, type: 'number' };
      }
      case 'count': {
        if (!arity(2)) return undefined;
        const inner = new Checker(this.#lookup, this.#tables);
        const condition = inner.#condition(args[0]!, 'as what count() counts');
        this.errors.push(...inner.errors);
        const ms = this.#window(args[1]!, fn);
        if (!condition || ms === undefined) return undefined;
        for (const p of inner.points) this.points.add(p);
        return { checked: { kind: 'count', counter: this.#tables.counter(condition, ms, [...inner.points].sort((a, b) => a - b)) }, type: 'number' };
      }
      case 'abs': {
        if (!arity(1)) return undefined;
        const arg = this.#number(args[0]!, 'in abs()');
        return arg && { checked: { kind: 'abs', arg }, type: 'number' };
      }
      default: {
        if (args.length < 2) return this.fail(expr.span, `${fn}() takes two or more numbers (got ${args.length})`);
        const checked = args.map((a, i) => this.#number(a, `as argument ${i + 1} of ${fn}()`));
        if (checked.some((c) => c === undefined)) return undefined;
        return { checked: { kind: 'minmax', op: fn as 'min' | 'max', args: checked as Checked[] }, type: 'number' };
      }
    }
  }

  #number(expr: Expr, where: string): Checked | undefined {
    const typed = this.typed(expr);
    if (!typed) return undefined;
    if (typed.type !== 'number') return this.fail(expr.span, `a condition ${where}, where a number is needed`);
    return typed.checked;
  }

  #condition(expr: Expr, where: string): Checked | undefined {
    const typed = this.typed(expr);
    if (!typed) return undefined;
    if (typed.type !== 'bool') return this.fail(expr.span, `a number ${where}, where a condition is needed: compare it (> 0) or test it (good(), stale() …)`);
    return typed.checked;
  }

  #window(expr: Expr, fn: string): number | undefined {
    if (expr.kind !== 'duration') return this.fail(expr.span, `the second argument of ${fn}() is a duration written with its unit (500ms, 30s, 5m, 1h)`);
    if (expr.ms <= 0) return this.fail(expr.span, `the window of ${fn}() must be longer than 0 ms`);
    if (expr.ms > MAX_WINDOW_MS) return this.fail(expr.span, `the window of ${fn}() may be at most 24h`);
    return expr.ms;
  }

  #pointArg(expr: Expr, fn: string): RulePoint | undefined {
    if (expr.kind !== 'point') return this.fail(expr.span, `${fn}() takes a point as written in the pipeline (name or device:name), not an expression`);
    return this.#point(expr);
  }

  #point(expr: Extract<Expr, { kind: 'point' }>): RulePoint | undefined {
    const all = this.#lookup.points;
    const named = all.filter((p) => p.name === expr.name && (expr.device === null || p.device === expr.device));
    if (named.length === 0) {
      if (expr.device !== null && !all.some((p) => p.device === expr.device)) {
        return this.fail(expr.span, `no device ${expr.device} in this pipeline; devices: ${[...new Set(all.map((p) => p.device))].join(', ')}`);
      }
      const near = closest(expr.name, all.filter((p) => expr.device === null || p.device === expr.device).map((p) => p.name));
      return this.fail(expr.span, `no point ${expr.device !== null ? `${expr.name} on device ${expr.device}` : expr.name} in this pipeline${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (named.length > 1) {
      return this.fail(expr.span, `point ${expr.name} is on devices ${named.map((p) => p.device).join(', ')}: say which, as ${named[0]!.device}:${expr.name}`);
    }
    const point = named[0]!;
    if (point.text) return this.fail(expr.span, `point ${point.name} is a string: a rule reads numbers and bools`);
    this.points.add(point.id);
    return point;
  }
}

function words(type: 'number' | 'bool'): string {
  return type === 'bool' ? 'condition' : 'number';
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const c of new Set(candidates)) {
    const d = distance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
