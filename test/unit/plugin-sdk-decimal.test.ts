// The SDK's settings readers (plugins/sdk/decimal.ts, used by json-cursor.ts and json.ts) against
// JavaScript's Number(), bit for bit: the cases the issue names, random decimal strings of many
// lengths and exponents, random-bit doubles printed shortest (String) and with 17 digits
// (toPrecision), and exact halfway points between neighbouring doubles (the hardest case: one digit
// more or less decides the rounding). Fixed seed; every string goes through both readers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlugin } from '../../src/host/plugin-build/build.js';
import { REPO_ROOT } from '../support/plugins.js';

const built = await buildPlugin(join(REPO_ROOT, 'test/fixtures/plugins/settings-probe'));
const module = new WebAssembly.Module(readFileSync(built.wasm));

type Probe = (size: number) => number;
interface ProbeExports {
  memory: WebAssembly.Memory;
  wg_input: (size: number) => number;
  wg_output: () => number;
  probe_cursor: Probe;
  probe_tree: Probe;
}

/** The bits of each number of `texts` as one reader of a fresh instance reads them. */
function read(texts: string[], reader: 'probe_cursor' | 'probe_tree'): bigint[] {
  const instance = new WebAssembly.Instance(module, { wasmgate: { log: () => {}, now: () => 0 } });
  const exports = instance.exports as unknown as ProbeExports;
  const doc = Buffer.from(`[${texts.join(',')}]`, 'utf8');
  const at = exports.wg_input(doc.byteLength);
  new Uint8Array(exports.memory.buffer, at, doc.byteLength).set(doc);
  const n = exports[reader](doc.byteLength);
  assert.equal(n, texts.length, `${reader} read every element`);
  const out = new DataView(exports.memory.buffer, exports.wg_output(), n * 8);
  return texts.map((_, i) => out.getBigUint64(i * 8, true));
}

function bitsOf(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return view.getBigUint64(0, true);
}

/** Every text read by both readers gives the bits Number() gives; lists the first few that do not. */
function agreesWithNumber(texts: string[]): void {
  for (const reader of ['probe_cursor', 'probe_tree'] as const) {
    const got = read(texts, reader);
    const wrong = texts
      .map((t, i) => ({ t, got: got[i]!, want: bitsOf(Number(t)) }))
      .filter((c) => c.got !== c.want)
      .map((c) => `${c.t.length > 60 ? `${c.t.slice(0, 60)}...` : c.t}: got 0x${c.got.toString(16)}, Number() 0x${c.want.toString(16)}`);
    assert.deepEqual(wrong.slice(0, 5), [], `${reader} disagrees with Number() on ${wrong.length} of ${texts.length} (first shown)`);
  }
}

/** A seeded 32-bit generator (mulberry32): the same cases on every run and every machine. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const digits = (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const bits = () => (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff));
  return { next, int, digits, bits };
}

function doubleOf(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits, true);
  return view.getFloat64(0, true);
}

/** The exact decimal text of m·2^k (a finite double's value, or a halfway point between two). */
function exactDecimal(m: bigint, k: number): string {
  return k >= 0 ? (m << BigInt(k)).toString() : `${m * 5n ** BigInt(-k)}e-${-k}`;
}

test('the settings readers give Number()\'s double for the cases the issue names', () => {
  agreesWithNumber([
    '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308', '-1.7976931348623157e308',
    '122.84861481748521', '5e-324', '-5e-324', '2e-324', '3e-324', '2.4703282292062327e-324', '2.4703282292062328e-324',
    '2.2250738585072011e-308', '2.2250738585072012e-308', '2.2250738585072014e-308', '4.9406564584124654e-324',
    '1e309', '1e400', '-1e400', '1e-400', '-1e-400', '0', '-0', '0.0', '-0.0e5', '0e999999', '1e-99999999', '1e99999999',
    '9007199254740993', '9007199254740992.5', '9007199254740993.0000000000000000001', '0.1', '0.3', '123456789012345678901234567890',
    `0.${'0'.repeat(400)}1e400`, `1${'0'.repeat(400)}e-400`, `${'9'.repeat(1000)}e-1000`, `0.${'0'.repeat(323)}494065645841246544`,
    '1E5', '1e+5', '2.5', '-2.5', '100', '65.5', '0.000001', '1e21', '1e22', '1e23', '8.98846567431158e307',
  ]);
});

test('the settings readers agree with Number() on 6,000 random decimal strings (digits 1 to 40, and 100 to 1,000; exponents -400 to 400)', () => {
  const g = generator(20261203);
  const texts: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const length = i % 10 === 9 ? g.int(100, 1000) : g.int(1, 40);
    const all = (g.int(1, 9) + g.digits(length - 1));
    const point = g.int(0, length);
    const mantissa = point === 0 || point === length ? all : `${all.slice(0, point)}.${all.slice(point)}`;
    // Exponents anywhere, and often where overflow, underflow and the subnormals begin.
    const band = g.int(0, 3);
    const target = band === 0 ? g.int(-400, 400) : band === 1 ? g.int(300, 312) : band === 2 ? g.int(-330, -305) : g.int(-30, 30);
    const e = target - (point === 0 ? length : point) + 1;
    texts.push(`${g.int(0, 1) ? '-' : ''}${mantissa}e${e}`);
  }
  agreesWithNumber(texts);
});

test('the settings readers agree with Number() on 4,000 random-bit doubles, printed shortest and with 17 digits', () => {
  const g = generator(7);
  const texts: string[] = [];
  while (texts.length < 8000) {
    const x = doubleOf(g.bits());
    if (!Number.isFinite(x)) continue;
    texts.push(String(x), x.toPrecision(17));
  }
  agreesWithNumber(texts);
  // Ordinary magnitudes too, where the old reader was one ulp off about once in twenty.
  const ordinary: string[] = [];
  for (let i = 0; i < 4000; i++) ordinary.push((g.next() * 10 ** g.int(-6, 9)).toPrecision(17));
  agreesWithNumber(ordinary);
});

test('the settings readers round exact halfway points to even, and one digit off them to the nearer side', () => {
  const g = generator(42);
  const texts: string[] = [];
  for (let i = 0; i < 600; i++) {
    // Subnormals, normals of every size, and the top binade.
    const bits = i % 3 === 0 ? g.bits() & 0x000fffffffffffffn : i % 3 === 1 ? g.bits() & 0x7fefffffffffffffn : 0x7fe0000000000000n | (g.bits() & 0x000fffffffffffffn);
    const biased = Number(bits >> 52n);
    const m = biased === 0 ? bits : (bits & 0x000fffffffffffffn) | (1n << 52n);
    const k = (biased === 0 ? 1 : biased) - 1075;
    const half = exactDecimal(2n * m + 1n, k - 1); // halfway to the next double up
    texts.push(half);
    const [digits, exponent] = half.split('e');
    texts.push(`${digits}1${exponent ? `e${Number(exponent) - 1}` : "e-1"}`); // a hair above halfway
    const below = (BigInt(digits!) * 10n - 1n).toString();
    texts.push(`${below}${exponent ? `e${Number(exponent) - 1}` : 'e-1'}`); // a hair below halfway
  }
  agreesWithNumber(texts);
});

test('the settings readers keep exponents exact past a million, where a mantissa of a million digits offsets them', () => {
  // The exponent once saturated at 999,999: these read as 0 and Infinity.
  agreesWithNumber([
    `0.${'0'.repeat(999_999)}1e1000005`, `1${'0'.repeat(1_000_000)}e-1000005`, `-0.${'0'.repeat(1_000_001)}25e1000002`,
    '1e0000000000000000000001', '1e99999999999999999999', '-1e-99999999999999999999', '0e99999999999999999999', `${'0.'}${'0'.repeat(30)}1e+0000031`,
  ]);
});

/** What each reader makes of a one-element array `[text]`: the tree reader's count (-1: refused) and the cursor's bits. */
function readOne(text: string): { tree: number; cursor: bigint } {
  const instance = new WebAssembly.Instance(module, { wasmgate: { log: () => {}, now: () => 0 } });
  const exports = instance.exports as unknown as ProbeExports;
  const doc = Buffer.from(`[${text}]`, 'utf8');
  const at = exports.wg_input(doc.byteLength);
  new Uint8Array(exports.memory.buffer, at, doc.byteLength).set(doc);
  const cursorCount = exports.probe_cursor(doc.byteLength);
  const cursor = cursorCount === 1 ? new DataView(exports.memory.buffer, exports.wg_output(), 8).getBigUint64(0, true) : -1n;
  return { tree: exports.probe_tree(doc.byteLength), cursor };
}

test('the settings readers refuse what JSON.parse refuses as a number, and read what it reads', () => {
  const NAN_BITS = bitsOf(NaN);
  const refused = ['01', '00', '-01', '1.', '-0.', '.5', '-.5', '1.e5', '0.e1', '+1', '-', '1e', '1e+', '0x10', '1.5.5', '2e3e4', '--1', '1.0e+-5'];
  for (const text of refused) {
    assert.throws(() => JSON.parse(`[${text}]`), SyntaxError, `JSON.parse refuses ${text}`);
    const { tree, cursor } = readOne(text);
    assert.equal(tree, -1, `the tree reader refuses [${text}]`);
    assert.equal(cursor, NAN_BITS, `the cursor reads [${text}] as no number`);
  }
  for (const text of ['0', '-0', '0.5', '0e5', '0E-0', '10', '1.0e+5', '-0.0', '9.9e-1']) {
    const want = bitsOf((JSON.parse(`[${text}]`) as number[])[0]!);
    const { tree, cursor } = readOne(text);
    assert.equal(tree, 1, `the tree reader reads [${text}]`);
    assert.equal(cursor, want, `the cursor reads [${text}] as JSON.parse does`);
  }
});
