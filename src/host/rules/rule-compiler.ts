/**
 * Compiles a checked rule set into a WebAssembly module (docs/rules.md, "The compiled module"): one
 * function per rule, per counted condition and per point that anything reads, each expression turned
 * into straight-line code with its points' values at constant offsets. The module follows the plugin
 * ABI (wg_input, wg_output, wg_configure, wg_process on a sample batch, wg_tick), imports nothing, and
 * is compiled and checked by the engine like any plugin. Every step mirrors rule-interpreter.ts, in
 * the same order, down to which side of an `and` is evaluated: the property test holds them equal.
 */
import type { Checked } from './expression.js';
import { BlockType, Code, encodeModule, Op, ValType, type FuncSpec } from './wasm-encoder.js';
import { EVENT_BYTES, EVENT_COUNT, EVENTS_HEADER, layoutOf, OUT_AT, PAGE, RING_HEADER, START, type Layout } from './rule-layout.js';
import type { RuleSet } from './rule-set.js';

const { i32, f64 } = ValType;

/** Function indexes of the fixed part; rules, counters and points follow. */
const F = {
  noop: 0, abi: 1, input: 2, output: 3, configure: 4, process: 5, tick: 6, emit: 7, push: 8, dropBefore: 9, rate: 10, count: 11,
  snapshot: 12, restore: 13,
} as const;
const FIXED = 14;
/** WG_STATUS_REFUSED (docs/plugin-abi.md): a snapshot of another size is another layout. */
const REFUSED = -7;
/** Type 0 is the point function's (ts, value, usable) -> (): noop is function 0, so its type is first. */
const POINT_TYPE = 0;
const FIRE = 1;
const CLEAR = 2;
/** A sample's type byte for text: not for rules. */
const TEXT = 2;

export function compileRules(set: RuleSet): Uint8Array {
  const layout = layoutOf(set);
  const ruleFunc = (r: number) => FIXED + r;
  const counterFunc = (c: number) => FIXED + set.rules.length + c;
  const pointFuncBase = FIXED + set.rules.length + set.counters.length;
  const gen = new ExpressionCode(set, layout);
  const funcs: FuncSpec[] = [];
  const add = (params: ValType[], results: ValType[], build: (c: Code) => void, name?: string) => {
    const code = new Code(params.length);
    build(code);
    funcs.push({ params, results, code, ...(name ? { export: name } : {}) });
  };

  add([f64, f64, i32], [], () => {});
  add([], [], () => {}, 'wasmgate_abi_v1');
  add([i32], [i32], (c) => wgInput(c, layout), 'wg_input');
  add([], [i32], (c) => c.i32(0).mem(Op.i32_load, 2, OUT_AT), 'wg_output');
  add([i32], [i32], (c) => wgConfigure(c, set, layout), 'wg_configure');
  add([i32], [i32], (c) => wgProcess(c, set, layout), 'wg_process');
  add([f64], [i32], (c) => wgTick(c, set, layout, ruleFunc, counterFunc), 'wg_tick');
  add([i32, i32, f64, i32], [], (c) => emit(c));
  add([i32, i32, f64, f64], [], (c) => ringPush(c));
  add([i32, i32, f64], [], (c) => ringDropBefore(c));
  add([i32, i32, f64, f64], [f64], (c) => ringRate(c));
  add([i32, i32, f64, f64], [f64], (c) => ringCount(c));
  // The state is the region [0, stateEnd): a snapshot is that region as output, a restore copies it back.
  add([], [i32], (c) => c.i32(0).i32(0).mem(Op.i32_store, 2, OUT_AT).i32(layout.stateEnd), 'wg_snapshot');
  add([i32], [i32], (c) => {
    c.get(0).i32(layout.stateEnd).op(Op.i32_ne, Op.if, BlockType.none).i32(REFUSED).op(Op.return, Op.end);
    c.i32(0).i32(layout.stateEnd).i32(layout.stateEnd).op(0xfc, 0x0a, 0x00, 0x00); // memory.copy
    c.i32(0);
  }, 'wg_restore');
  set.rules.forEach((rule, r) => add([f64], [], (c) => gen.rule(c, r)));
  set.counters.forEach((counter, k) => add([f64], [], (c) => gen.counter(c, k)));

  // One function per point that something reads; the table sends every other point to noop.
  const table: number[] = [];
  let next = pointFuncBase;
  for (let p = 0; p < set.pointCount; p++) {
    const windows = set.windows.flatMap((w, k) => (w.point === p ? [k] : []));
    const counters = set.counters.flatMap((k, i) => (k.points.includes(p) ? [i] : []));
    const rules = set.rules.flatMap((r, i) => (r.points.includes(p) ? [i] : []));
    if (windows.length + counters.length + rules.length === 0) {
      table.push(F.noop);
      continue;
    }
    table.push(next++);
    add([f64, f64, i32], [], (c) => {
      // params: 0 ts, 1 value, 2 usable
      for (const w of windows) {
        c.get(2).op(Op.if, BlockType.none);
        c.i32(layout.windows[w]!).i32(set.windows[w]!.capacity).get(0).get(1).call(F.push);
        c.op(Op.end);
      }
      for (const k of counters) c.get(0).call(counterFunc(k));
      for (const r of rules) c.get(0).call(ruleFunc(r));
    });
  }
  const pages = Math.ceil((layout.stateEnd + PAGE) / PAGE);
  return encodeModule(funcs, pages, table);
}

/** wg_input(size): the input region at the end of the state, memory grown to hold it. */
function wgInput(c: Code, layout: Layout): void {
  const need = c.local(i32);
  // Past 2 GiB the sum would wrap: refuse by trapping, as the ABI asks of a region that cannot be given.
  c.get(0).i32(0x7fff0000 - layout.stateEnd).op(Op.i32_gt_u, Op.if, BlockType.none, Op.unreachable, Op.end);
  c.get(0).i32(layout.stateEnd + EVENTS_HEADER + 8).op(Op.i32_add).set(need);
  growTo(c, need);
  c.i32(layout.stateEnd);
}

/**
 * wg_configure: the state as nothing has been seen yet (memory starts as zeros): no start time, no
 * value (NaN) and no good sample of any point, no quality (255). Rule phases and rings start at zero.
 */
function wgConfigure(c: Code, set: RuleSet, layout: Layout): void {
  const p = c.local(i32);
  c.i32(0).f64(NaN).mem(Op.f64_store, 3, START);
  c.op(Op.block, BlockType.none, Op.loop, BlockType.none);
  c.get(p).i32(set.pointCount).op(Op.i32_ge_u, Op.br_if, 1);
  c.get(p).i32(3).op(Op.i32_shl).f64(NaN).mem(Op.f64_store, 3, layout.value);
  c.get(p).i32(3).op(Op.i32_shl).f64(NaN).mem(Op.f64_store, 3, layout.lastGood);
  c.get(p).i32(255).mem(Op.i32_store8, 0, layout.quality);
  c.get(p).i32(1).op(Op.i32_add).set(p);
  c.op(Op.br, 0, Op.end, Op.end);
  c.i32(0);
}

/** Grows memory until it holds `local` bytes; traps when the host refuses. */
function growTo(c: Code, local: number): void {
  c.op(Op.block, BlockType.none, Op.loop, BlockType.none);
  c.op(Op.memory_size, 0x00).i32(16).op(Op.i32_shl).get(local).op(Op.i32_ge_u, Op.br_if, 1);
  c.i32(1).op(Op.memory_grow, 0x00).i32(-1).op(Op.i32_eq, Op.if, BlockType.none, Op.unreachable, Op.end);
  c.op(Op.br, 0, Op.end, Op.end);
}

/** Output starts at `local` (8-aligned): no events yet. */
function startOutput(c: Code, at: () => void): void {
  c.i32(0);
  at();
  c.mem(Op.i32_store, 2, OUT_AT);
  c.i32(0).i32(0).mem(Op.i32_store, 2, EVENT_COUNT);
}

/** Writes the event count at the output's start; leaves the output's length. */
function finishOutput(c: Code): void {
  c.i32(0).mem(Op.i32_load, 2, OUT_AT).i32(0).mem(Op.i32_load, 2, EVENT_COUNT).mem(Op.i32_store, 2, 0);
  c.i32(0).mem(Op.i32_load, 2, OUT_AT).i32(0).mem(Op.i32_store, 2, 4);
  c.i32(0).mem(Op.i32_load, 2, EVENT_COUNT).i32(EVENT_BYTES).op(Op.i32_mul).i32(EVENTS_HEADER).op(Op.i32_add);
}

function firstTime(c: Code, now: () => void): void {
  // start != start: NaN, nothing seen yet.
  c.i32(0).mem(Op.f64_load, 3, START).i32(0).mem(Op.f64_load, 3, START).op(Op.f64_ne, Op.if, BlockType.none);
  c.i32(0);
  now();
  c.mem(Op.f64_store, 3, START).op(Op.end);
}

function wgProcess(c: Code, set: RuleSet, layout: Layout): void {
  const [count, i, p, point, q, ts, value, usable] = [c.local(i32), c.local(i32), c.local(i32), c.local(i32), c.local(i32), c.local(f64), c.local(f64), c.local(i32)];
  const base = layout.stateEnd;
  // Output after the input, 8-aligned.
  startOutput(c, () => c.get(0).i32(base + 7).op(Op.i32_add).i32(-8).op(Op.i32_and));
  c.i32(base).mem(Op.i32_load, 2, 0).set(count);
  // A count the batch cannot hold is the host's error: read no further than the batch.
  c.get(count).get(0).i32(EVENTS_HEADER).op(Op.i32_sub).i32(24).op(0x6e /* i32.div_u */).tee(q).get(count).get(q).op(Op.i32_lt_u, Op.select).set(count);
  c.i32(base + 8).set(p);
  c.op(Op.block, BlockType.none, Op.loop, BlockType.none);
  c.get(i).get(count).op(Op.i32_ge_u, Op.br_if, 1);
  c.get(p).mem(Op.i32_load, 2, 16).set(point);
  c.get(p).mem(Op.i32_load8_u, 0, 21).i32(TEXT).op(Op.i32_ne).get(point).i32(set.pointCount).op(Op.i32_lt_u, Op.i32_and, Op.if, BlockType.none);
  c.get(p).mem(Op.f64_load, 3, 0).set(ts);
  c.get(p).mem(Op.f64_load, 3, 8).set(value);
  c.get(p).mem(Op.i32_load8_u, 0, 20).set(q);
  firstTime(c, () => c.get(ts));
  c.get(q).i32(1).op(Op.i32_le_u).tee(usable).op(Op.if, BlockType.none);
  c.get(point).i32(3).op(Op.i32_shl).get(value).mem(Op.f64_store, 3, layout.value).op(Op.end);
  c.get(point).get(q).mem(Op.i32_store8, 0, layout.quality);
  c.get(q).op(Op.i32_eqz, Op.if, BlockType.none);
  c.get(point).i32(3).op(Op.i32_shl).get(ts).mem(Op.f64_store, 3, layout.lastGood).op(Op.end);
  c.get(ts).get(value).get(usable).get(point).op(Op.call_indirect, POINT_TYPE, 0x00);
  c.op(Op.end);
  c.get(i).i32(1).op(Op.i32_add).set(i);
  c.get(p).i32(24).op(Op.i32_add).set(p);
  c.op(Op.br, 0, Op.end, Op.end);
  finishOutput(c);
}

function wgTick(c: Code, set: RuleSet, layout: Layout, ruleFunc: (r: number) => number, counterFunc: (k: number) => number): void {
  startOutput(c, () => c.i32(layout.stateEnd));
  // Only a finite time moves the rules: the shutdown tick (+Infinity) is not one.
  c.get(0).get(0).op(Op.f64_sub).get(0).get(0).op(Op.f64_sub).op(Op.f64_eq, Op.if, BlockType.none);
  firstTime(c, () => c.get(0));
  for (let k = 0; k < set.counters.length; k++) c.get(0).call(counterFunc(k));
  for (let r = 0; r < set.rules.length; r++) c.get(0).call(ruleFunc(r));
  c.op(Op.end);
  finishOutput(c);
}

/** emit(rule, kind, ts, interlocks): one event record at the end of the output, memory grown for it. */
function emit(c: Code): void {
  const at = c.local(i32);
  const need = c.local(i32);
  c.i32(0).mem(Op.i32_load, 2, OUT_AT).i32(0).mem(Op.i32_load, 2, EVENT_COUNT).i32(EVENT_BYTES).op(Op.i32_mul, Op.i32_add).i32(EVENTS_HEADER).op(Op.i32_add).tee(at);
  c.i32(EVENT_BYTES).op(Op.i32_add).set(need);
  growTo(c, need);
  c.get(at).get(2).mem(Op.f64_store, 3, 0);
  c.get(at).get(0).mem(Op.i32_store, 2, 8);
  c.get(at).get(1).mem(Op.i32_store, 2, 12);
  c.get(at).get(3).mem(Op.i32_store, 2, 16);
  c.get(at).i32(0).mem(Op.i32_store, 2, 20);
  c.i32(0).i32(0).mem(Op.i32_load, 2, EVENT_COUNT).i32(1).op(Op.i32_add).mem(Op.i32_store, 2, EVENT_COUNT);
}

/** push(base, capacity, ts, value): the oldest goes when the ring is full. */
function ringPush(c: Code): void {
  const [head, size, at] = [c.local(i32), c.local(i32), c.local(i32)];
  c.get(0).mem(Op.i32_load, 2, 0).set(head);
  c.get(0).mem(Op.i32_load, 2, 4).set(size);
  c.get(size).get(1).op(Op.i32_eq, Op.if, BlockType.none);
  c.get(head).i32(1).op(Op.i32_add).get(1).op(Op.i32_rem_u).set(head);
  c.get(size).i32(1).op(Op.i32_sub).set(size).op(Op.end);
  c.get(head).get(size).op(Op.i32_add).get(1).op(Op.i32_rem_u).i32(3).op(Op.i32_shl).get(0).op(Op.i32_add).set(at);
  c.get(at).get(2).mem(Op.f64_store, 3, RING_HEADER);
  c.get(at).get(1).i32(3).op(Op.i32_shl, Op.i32_add).get(3).mem(Op.f64_store, 3, RING_HEADER);
  c.get(0).get(head).mem(Op.i32_store, 2, 0);
  c.get(0).get(size).i32(1).op(Op.i32_add).mem(Op.i32_store, 2, 4);
}

/** dropBefore(base, capacity, since): what is older than `since` goes, for good. */
function ringDropBefore(c: Code): void {
  const [head, size] = [c.local(i32), c.local(i32)];
  c.get(0).mem(Op.i32_load, 2, 0).set(head);
  c.get(0).mem(Op.i32_load, 2, 4).set(size);
  c.op(Op.block, BlockType.none, Op.loop, BlockType.none);
  c.get(size).op(Op.i32_eqz, Op.br_if, 1);
  c.get(head).i32(3).op(Op.i32_shl).get(0).op(Op.i32_add).mem(Op.f64_load, 3, RING_HEADER).get(2).op(Op.f64_lt, Op.i32_eqz, Op.br_if, 1);
  c.get(head).i32(1).op(Op.i32_add).get(1).op(Op.i32_rem_u).set(head);
  c.get(size).i32(1).op(Op.i32_sub).set(size);
  c.op(Op.br, 0, Op.end, Op.end);
  c.get(0).get(head).mem(Op.i32_store, 2, 0);
  c.get(0).get(size).mem(Op.i32_store, 2, 4);
}

/** rate(base, capacity, now, ms): change per second between the oldest and newest of the window. */
function ringRate(c: Code): void {
  const [head, last, dt, vals] = [c.local(i32), c.local(i32), c.local(f64), c.local(i32)];
  c.get(0).get(1).get(2).get(3).op(Op.f64_sub).call(F.dropBefore);
  c.get(0).mem(Op.i32_load, 2, 4).i32(2).op(Op.i32_lt_u, Op.if, BlockType.none).f64(NaN).op(Op.return, Op.end);
  c.get(0).mem(Op.i32_load, 2, 0).set(head);
  c.get(head).get(0).mem(Op.i32_load, 2, 4).op(Op.i32_add).i32(1).op(Op.i32_sub).get(1).op(Op.i32_rem_u).set(last);
  const tsAt = (local: number) => c.get(local).i32(3).op(Op.i32_shl).get(0).op(Op.i32_add).mem(Op.f64_load, 3, RING_HEADER);
  tsAt(last);
  tsAt(head);
  c.op(Op.f64_sub).tee(dt).f64(0).op(Op.f64_gt, Op.i32_eqz, Op.if, BlockType.none).f64(NaN).op(Op.return, Op.end);
  c.get(1).i32(3).op(Op.i32_shl).get(0).op(Op.i32_add).set(vals);
  const valueAt = (local: number) => c.get(local).i32(3).op(Op.i32_shl).get(vals).op(Op.i32_add).mem(Op.f64_load, 3, RING_HEADER);
  valueAt(last);
  valueAt(head);
  c.op(Op.f64_sub).get(dt).op(Op.f64_div).f64(1000).op(Op.f64_mul);
}

/** count(base, capacity, now, ms): the rises still in the window. */
function ringCount(c: Code): void {
  c.get(0).get(1).get(2).get(3).op(Op.f64_sub).call(F.dropBefore);
  c.get(0).mem(Op.i32_load, 2, 4).op(Op.f64_convert_i32_u);
}

/** The code of expressions, rules and counters, reading the state at the layout's offsets. */
class ExpressionCode {
  readonly #set: RuleSet;
  readonly #layout: Layout;

  constructor(set: RuleSet, layout: Layout) {
    this.#set = set;
    this.#layout = layout;
  }

  /** f_rule(now): one evaluation of rule `r`, as RuleState.step and RuleInterpreter.#evaluate. */
  rule(c: Code, r: number): void {
    const rule = this.#set.rules[r]!;
    const s = this.#layout.rules[r]!;
    const phase = c.local(i32);
    c.i32(0).mem(Op.i32_load, 2, s).tee(phase).i32(1).op(Op.i32_le_u, Op.if, BlockType.none);
    {
      this.cond(c, rule.when);
      c.op(Op.i32_eqz, Op.if, BlockType.none).i32(0).i32(0).mem(Op.i32_store, 2, s).op(Op.return, Op.end);
      c.get(phase).op(Op.i32_eqz, Op.if, BlockType.none);
      c.i32(0).i32(1).mem(Op.i32_store, 2, s);
      c.i32(0).get(0).mem(Op.f64_store, 3, s + 8).op(Op.end);
      c.get(0).i32(0).mem(Op.f64_load, 3, s + 8).op(Op.f64_sub).f64(rule.forMs).op(Op.f64_lt, Op.if, BlockType.none, Op.return, Op.end);
      c.i32(0).i32(2).mem(Op.i32_store, 2, s);
      c.i32(r).i32(FIRE).get(0);
      this.#interlocks(c, r);
      c.call(F.emit).op(Op.return);
    }
    c.op(Op.end);
    c.get(phase).i32(2).op(Op.i32_eq, Op.if, BlockType.none);
    {
      if (rule.clear) this.cond(c, rule.clear);
      else {
        this.cond(c, rule.relaxed ?? rule.when);
        c.op(Op.i32_eqz);
      }
      c.op(Op.i32_eqz, Op.if, BlockType.none, Op.return, Op.end);
      c.i32(0);
      this.cond(c, rule.when);
      c.op(Op.if, BlockType.i32).i32(3).op(Op.else).i32(0).op(Op.end);
      c.mem(Op.i32_store, 2, s);
      c.i32(r).i32(CLEAR).get(0);
      this.#interlocks(c, r);
      c.call(F.emit).op(Op.return);
    }
    c.op(Op.end);
    // Latched: idle again once the condition lets go.
    this.cond(c, rule.when);
    c.op(Op.i32_eqz, Op.if, BlockType.none).i32(0).i32(0).mem(Op.i32_store, 2, s).op(Op.end);
  }

  /** f_counter(now): a rise of the condition goes into the counter's ring. */
  counter(c: Code, k: number): void {
    const counter = this.#set.counters[k]!;
    const base = this.#layout.counters[k]!;
    const holds = c.local(i32);
    this.cond(c, counter.condition);
    c.tee(holds).i32(0).mem(Op.i32_load, 2, base + 8).op(Op.i32_eqz, Op.i32_and, Op.if, BlockType.none);
    c.i32(base).i32(counter.capacity).get(0).f64(0).call(F.push).op(Op.end);
    c.i32(0).get(holds).mem(Op.i32_store, 2, base + 8);
  }

  #interlocks(c: Code, r: number): void {
    c.i32(0);
    this.#set.rules[r]!.interlocks.forEach((lock, i) => {
      this.cond(c, lock);
      c.i32(i).op(Op.i32_shl, Op.i32_or);
    });
  }

  /** Leaves an i32, 1 when the condition holds, else 0. `now` is local 0. */
  cond(c: Code, e: Checked): void {
    const L = this.#layout;
    switch (e.kind) {
      case 'bool': c.i32(e.value ? 1 : 0); return;
      case 'truthy': c.i32(0).mem(Op.f64_load, 3, L.value + 8 * e.point).f64(1).op(Op.f64_eq); return;
      case 'quality': c.i32(0).mem(Op.i32_load8_u, 0, L.quality + e.point).i32(e.quality).op(Op.i32_eq); return;
      case 'stale': {
        const good = c.local(f64);
        c.get(0);
        c.i32(0).mem(Op.f64_load, 3, START);
        c.i32(0).mem(Op.f64_load, 3, L.lastGood + 8 * e.point).tee(good);
        c.get(good).get(good).op(Op.f64_ne, Op.select);
        c.op(Op.f64_sub).f64(e.ms).op(Op.f64_ge);
        return;
      }
      case 'not': this.cond(c, e.arg); c.op(Op.i32_eqz); return;
      case 'logic':
        this.cond(c, e.left);
        c.op(Op.if, BlockType.i32);
        if (e.op === 'and') {
          this.cond(c, e.right);
          c.op(Op.else).i32(0).op(Op.end);
        } else {
          c.i32(1).op(Op.else);
          this.cond(c, e.right);
          c.op(Op.end);
        }
        return;
      case 'compare': {
        this.num(c, e.left);
        this.num(c, e.right);
        const ops = { '<': Op.f64_lt, '<=': Op.f64_le, '>': Op.f64_gt, '>=': Op.f64_ge, '==': Op.f64_eq, '!=': Op.f64_ne } as const;
        c.op(ops[e.op]);
        return;
      }
      default:
        // A number where a condition stands: the checks never let one through; as #eval: equal to 1.
        this.num(c, e);
        c.f64(1).op(Op.f64_eq);
    }
  }

  /** Leaves an f64. */
  num(c: Code, e: Checked): void {
    const L = this.#layout;
    switch (e.kind) {
      case 'number': c.f64(e.value); return;
      case 'value': c.i32(0).mem(Op.f64_load, 3, L.value + 8 * e.point); return;
      case 'rate': {
        const w = this.#set.windows[e.window]!;
        c.i32(L.windows[e.window]!).i32(w.capacity).get(0).f64(w.ms).call(F.rate);
        return;
      }
      case 'count': {
        const k = this.#set.counters[e.counter]!;
        c.i32(L.counters[e.counter]!).i32(k.capacity).get(0).f64(k.ms).call(F.count);
        return;
      }
      case 'neg': this.num(c, e.arg); c.op(Op.f64_neg); return;
      case 'abs': this.num(c, e.arg); c.op(Op.f64_abs); return;
      case 'minmax':
        this.num(c, e.args[0]!);
        for (const a of e.args.slice(1)) {
          this.num(c, a);
          c.op(e.op === 'min' ? Op.f64_min : Op.f64_max);
        }
        return;
      case 'arith': {
        this.num(c, e.left);
        this.num(c, e.right);
        c.op({ '+': Op.f64_add, '-': Op.f64_sub, '*': Op.f64_mul, '/': Op.f64_div }[e.op]);
        return;
      }
      default:
        // A condition as a number: 1 or 0, as #num gives.
        this.cond(c, e);
        c.op(Op.f64_convert_i32_u);
    }
  }
}
