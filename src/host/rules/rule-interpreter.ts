/**
 * The reference evaluator of a rule set: a plain tree-walking interpreter of the checked rules
 * (docs/rules.md, "How rules are evaluated"). It is the specification the compiled module is tested
 * against (test/unit/rules-compiled-property.test.ts) and the baseline of bench/rules.bench.ts;
 * pipelines run the compiled module. Every step below is mirrored there, in the same order.
 */
import type { Checked } from './expression.js';
import type { Rule, RuleEvent, RuleSet } from './rule-set.js';
import { RuleState } from './rule-state.js';

/** A ring of (ts, value) pairs, oldest first; the oldest goes when a push finds it full. */
class Ring {
  readonly ts: Float64Array;
  readonly value: Float64Array;
  head = 0;
  size = 0;

  constructor(capacity: number) {
    this.ts = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }

  push(ts: number, value: number): void {
    const cap = this.ts.length;
    if (this.size === cap) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    const at = (this.head + this.size) % cap;
    this.ts[at] = ts;
    this.value[at] = value;
    this.size++;
  }

  /** Drops what is older than `since`, for good. */
  dropBefore(since: number): void {
    while (this.size > 0 && this.ts[this.head]! < since) {
      this.head = (this.head + 1) % this.ts.length;
      this.size--;
    }
  }

  newest(): number {
    return (this.head + this.size - 1) % this.ts.length;
  }
}

/** No sample of the point yet. */
const NO_QUALITY = 255;

export class RuleInterpreter {
  readonly #set: RuleSet;
  readonly #value: Float64Array;
  readonly #quality: Uint8Array;
  /** Time of the latest good sample; NaN: none yet (staleness counts from `#start`). */
  readonly #lastGood: Float64Array;
  readonly #windows: Ring[];
  readonly #rises: Ring[];
  readonly #counterWas: boolean[];
  readonly #state: RuleState[];
  readonly #rulesOf: number[][];
  readonly #windowsOf: number[][];
  readonly #countersOf: number[][];
  /** The first time seen (a sample or a tick): stale() of a point never heard from counts from here. */
  #start = NaN;
  #events: RuleEvent[] = [];

  constructor(set: RuleSet) {
    this.#set = set;
    const n = set.pointCount;
    this.#value = new Float64Array(n).fill(NaN);
    this.#quality = new Uint8Array(n).fill(NO_QUALITY);
    this.#lastGood = new Float64Array(n).fill(NaN);
    this.#windows = set.windows.map((w) => new Ring(w.capacity));
    this.#rises = set.counters.map((c) => new Ring(c.capacity));
    this.#counterWas = set.counters.map(() => false);
    this.#state = set.rules.map(() => new RuleState());
    this.#rulesOf = Array.from({ length: n }, () => []);
    this.#windowsOf = Array.from({ length: n }, () => []);
    this.#countersOf = Array.from({ length: n }, () => []);
    set.rules.forEach((r, i) => r.points.forEach((p) => this.#rulesOf[p]!.push(i)));
    set.windows.forEach((w, i) => this.#windowsOf[w.point]!.push(i));
    set.counters.forEach((c, i) => c.points.forEach((p) => this.#countersOf[p]!.push(i)));
  }

  /** One sample of point `point` (quality 0 good, 1 suspect, 2 bad, 3 no-comm). */
  sample(point: number, ts: number, value: number, quality: number): void {
    if (point >= this.#set.pointCount) return;
    if (Number.isNaN(this.#start)) this.#start = ts;
    const usable = quality <= 1;
    if (usable) this.#value[point] = value;
    this.#quality[point] = quality;
    if (quality === 0) this.#lastGood[point] = ts;
    if (usable) for (const w of this.#windowsOf[point]!) this.#windows[w]!.push(ts, value);
    for (const c of this.#countersOf[point]!) this.#count(c, ts);
    for (const r of this.#rulesOf[point]!) this.#evaluate(r, ts);
  }

  /** The clock moved on with no sample: for:, stale(), rate() and count() move with it. */
  tick(now: number): void {
    // The shutdown tick (+Infinity, docs/plugin-abi.md wg_tick) is no time for a rule.
    if (!Number.isFinite(now)) return;
    if (Number.isNaN(this.#start)) this.#start = now;
    for (let c = 0; c < this.#set.counters.length; c++) this.#count(c, now);
    for (let r = 0; r < this.#set.rules.length; r++) this.#evaluate(r, now);
  }

  /** Every sample of a sample batch (docs/plugin-abi.md), in order; text samples are not for rules. */
  batch(bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(0, true);
    for (let i = 0, at = 8; i < count; i++, at += 24) {
      if (view.getUint8(at + 21) === 2) continue;
      this.sample(view.getUint32(at + 16, true), view.getFloat64(at, true), view.getFloat64(at + 8, true), view.getUint8(at + 20));
    }
  }

  /** The events since the last call, in the order they happened. */
  takeEvents(): RuleEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }

  #count(c: number, now: number): void {
    const holds = this.#eval(this.#set.counters[c]!.condition, now);
    if (holds && !this.#counterWas[c]) this.#rises[c]!.push(now, 0);
    this.#counterWas[c] = holds;
  }

  #evaluate(r: number, now: number): void {
    const rule = this.#set.rules[r]!;
    const made = this.#state[r]!.step(now, rule.forMs, () => this.#eval(rule.when, now), () => this.#cleared(rule, now));
    if (made === null) return;
    let interlocks = 0;
    rule.interlocks.forEach((c, i) => { if (this.#eval(c, now)) interlocks |= 1 << i; });
    this.#events.push({ rule: r, kind: made, ts: now, interlocks });
  }

  #cleared(rule: Rule, now: number): boolean {
    if (rule.clear) return this.#eval(rule.clear, now);
    if (rule.relaxed) return !this.#eval(rule.relaxed, now);
    return !this.#eval(rule.when, now);
  }

  #eval(e: Checked, now: number): boolean {
    return this.#num(e, now) === 1;
  }

  /** Conditions are 1 (holds) or 0; numbers are doubles, NaN for what is not known. */
  #num(e: Checked, now: number): number {
    switch (e.kind) {
      case 'number': return e.value;
      case 'bool': return e.value ? 1 : 0;
      case 'value': return this.#value[e.point]!;
      case 'truthy': return this.#value[e.point] === 1 ? 1 : 0;
      case 'quality': return this.#quality[e.point] === e.quality ? 1 : 0;
      case 'stale': {
        const since = Number.isNaN(this.#lastGood[e.point]!) ? this.#start : this.#lastGood[e.point]!;
        return now - since >= e.ms ? 1 : 0;
      }
      case 'rate': {
        const window = this.#set.windows[e.window]!;
        const ring = this.#windows[e.window]!;
        ring.dropBefore(now - window.ms);
        if (ring.size < 2) return NaN;
        const last = ring.newest();
        const dt = ring.ts[last]! - ring.ts[ring.head]!;
        return dt > 0 ? ((ring.value[last]! - ring.value[ring.head]!) / dt) * 1000 : NaN;
      }
      case 'count': {
        const ring = this.#rises[e.counter]!;
        ring.dropBefore(now - this.#set.counters[e.counter]!.ms);
        return ring.size;
      }
      case 'neg': return -this.#num(e.arg, now);
      case 'not': return this.#eval(e.arg, now) ? 0 : 1;
      case 'abs': return Math.abs(this.#num(e.arg, now));
      case 'minmax': {
        let acc = this.#num(e.args[0]!, now);
        for (let i = 1; i < e.args.length; i++) acc = e.op === 'min' ? Math.min(acc, this.#num(e.args[i]!, now)) : Math.max(acc, this.#num(e.args[i]!, now));
        return acc;
      }
      case 'arith': {
        const a = this.#num(e.left, now);
        const b = this.#num(e.right, now);
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      }
      case 'compare': {
        const a = this.#num(e.left, now);
        const b = this.#num(e.right, now);
        const holds = e.op === '<' ? a < b : e.op === '<=' ? a <= b : e.op === '>' ? a > b : e.op === '>=' ? a >= b : e.op === '==' ? a === b : a !== b;
        return holds ? 1 : 0;
      }
      case 'logic':
        return e.op === 'and' ? (this.#eval(e.left, now) && this.#eval(e.right, now) ? 1 : 0) : this.#eval(e.left, now) || this.#eval(e.right, now) ? 1 : 0;
    }
  }
}
