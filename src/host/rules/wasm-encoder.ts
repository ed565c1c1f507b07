/**
 * The few pieces of the WebAssembly binary format (WebAssembly Core Specification 2.0, chapter 5)
 * the rule compiler emits: LEB128 numbers, the sections of a module with one memory, one function
 * table, functions and exports, and the instructions it uses. Written here rather than taken from
 * binaryen (a 12 MB compiler in a dependency) or wabt (text format in, for a generator that has the
 * tree already): the compiler needs some forty opcodes, and every byte of them is readable below.
 */

export const ValType = { i32: 0x7f, f64: 0x7c } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Instruction opcodes (spec 5.4), by their text-format names. */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d, return: 0x0f,
  call: 0x10, call_indirect: 0x11, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22,
  i32_load: 0x28, f64_load: 0x2b, i32_load8_u: 0x2d, i32_store: 0x36, f64_store: 0x39, i32_store8: 0x3a,
  memory_size: 0x3f, memory_grow: 0x40, i32_const: 0x41, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_u: 0x49, i32_gt_u: 0x4b, i32_le_u: 0x4d, i32_ge_u: 0x4f,
  f64_eq: 0x61, f64_ne: 0x62, f64_lt: 0x63, f64_gt: 0x64, f64_le: 0x65, f64_ge: 0x66,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74,
  f64_abs: 0x99, f64_neg: 0x9a, f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2, f64_div: 0xa3, f64_min: 0xa4, f64_max: 0xa5,
  f64_convert_i32_u: 0xb8,
} as const;

/** The empty block type, and a block that leaves one value. */
export const BlockType = { none: 0x40, i32: ValType.i32, f64: ValType.f64 } as const;

export function uleb(value: number, out: number[] = []): number[] {
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

export function sleb(value: number, out: number[] = []): number[] {
  let v = value | 0;
  while (true) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A function body under construction: its locals beyond the parameters, and its instructions. */
export class Code {
  readonly bytes: number[] = [];
  readonly #locals: ValType[] = [];
  readonly #params: number;

  constructor(params: number) {
    this.#params = params;
  }

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  op(...ops: number[]): this {
    this.bytes.push(...ops);
    return this;
  }

  i32(value: number): this {
    this.bytes.push(Op.i32_const);
    sleb(value, this.bytes);
    return this;
  }

  f64(value: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.bytes.push(Op.f64_const, ...b);
    return this;
  }

  get(local: number): this {
    this.bytes.push(Op.local_get);
    uleb(local, this.bytes);
    return this;
  }

  set(local: number): this {
    this.bytes.push(Op.local_set);
    uleb(local, this.bytes);
    return this;
  }

  tee(local: number): this {
    this.bytes.push(Op.local_tee);
    uleb(local, this.bytes);
    return this;
  }

  call(func: number): this {
    this.bytes.push(Op.call);
    uleb(func, this.bytes);
    return this;
  }

  /** A load or store with its alignment (log2 bytes) and a constant offset. */
  mem(op: number, align: number, offset = 0): this {
    this.bytes.push(op);
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }

  /** The body as the code section holds it: size, locals run-length encoded, instructions, end. */
  encode(): number[] {
    const runs: Array<[number, ValType]> = [];
    for (const t of this.#locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body: number[] = [];
    uleb(runs.length, body);
    for (const [n, t] of runs) body.push(...uleb(n), t);
    body.push(...this.bytes, Op.end);
    return [...uleb(body.length), ...body];
  }
}

export interface FuncSpec {
  params: ValType[];
  results: ValType[];
  code: Code;
  /** Exported under this name. */
  export?: string;
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/**
 * A module: `funcs` in index order (no imports), one memory of `pages` initial pages exported as
 * `memory`, and a function table filled from index 0 with `table` (function indexes) for call_indirect.
 */
export function encodeModule(funcs: readonly FuncSpec[], pages: number, table: readonly number[]): Uint8Array {
  const typeKeys: string[] = [];
  const typeOf = funcs.map((f) => {
    const key = `${f.params.join(',')}>${f.results.join(',')}`;
    let index = typeKeys.indexOf(key);
    if (index < 0) index = typeKeys.push(key) - 1;
    return index;
  });
  const types = typeKeys.map((key) => {
    const [p, r] = key.split('>').map((s) => (s === '' ? [] : s.split(',').map(Number)));
    return [0x60, ...uleb(p!.length), ...p!, ...uleb(r!.length), ...r!];
  });
  const exports = funcs.flatMap((f, i) => (f.export ? [[...name(f.export), 0x00, ...uleb(i)]] : []));
  exports.push([...name('memory'), 0x02, 0x00]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
    ...section(1, vec(types)),
    ...section(3, vec(typeOf.map((t) => uleb(t)))),
    // A table of funcrefs, its size fixed; the host caps tables (memory-limit.ts), this one never grows.
    ...section(4, vec([[0x70, 0x01, ...uleb(table.length), ...uleb(table.length)]])),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec(exports)),
    // One active element segment at offset 0 of table 0 (flag 0).
    ...section(9, vec([[0x00, Op.i32_const, 0x00, Op.end, ...vec(table.map((f) => uleb(f)))]])),
    ...section(10, vec(funcs.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}
