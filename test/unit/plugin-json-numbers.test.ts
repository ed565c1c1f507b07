// json encoder numbers. Full precision must parse back to the identical double; where the plugin claims
// the shortest form, the text must equal JavaScript's own (String(x), shortest round-trip by spec).
// Fixed decimals round half away from zero on the exact binary value, which Number.prototype.toFixed
// does too (ECMA-262: "pick n with n / 10^f - x as close to zero as possible, the larger on a tie" on
// the exact value of |x|), so toFixed is the independent expectation.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode, jsonEncoder, type Decoded } from './plugin-json-harness.js';

const full = jsonEncoder();
const byDecimals = new Map<number, ReturnType<typeof jsonEncoder>>();
function rounded(decimals: number): ReturnType<typeof jsonEncoder> {
  let instance = byDecimals.get(decimals);
  if (!instance) byDecimals.set(decimals, (instance = jsonEncoder({ with: { decimals } })));
  return instance;
}

/** The value member's text and parsed value, for each x. */
function values(instance: ReturnType<typeof jsonEncoder>, xs: readonly number[]): { text: string; value: unknown }[] {
  const out: Decoded[] = encode(instance, xs.map((value) => ({ ts: 0, value, point: 0, quality: 0 })));
  return out.map((m) => ({ text: /"value":([^,}]*)/.exec(m.text)![1]!, value: (m.json as { value: unknown }).value }));
}

test('full precision: known vectors, written as JavaScript writes them', () => {
  const xs = [
    0, 1, -1, 7, 655, 1013.25, 0.1, 0.2, 0.30000000000000004, 25.500000000000004, 1 / 3, 2 / 3, 123.456,
    -0.000123, 1e-6, 1.5e-6, 1e-7, 1.2e-7, 9.999999999999999e-7, 1e20, 1e21 - 65536, 2 ** 53 - 1, 4.35, 0.07,
    1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 2 ** -29, 2 ** -34, 1.1641532182693481e-10,
    1e-300, 1e300, 123e-20, 9007199254740993, 1700000000000, 1700000000000.5, 0.1 + 0.7, 65535 * 0.1 - 40,
  ];
  const out = values(full, xs);
  xs.forEach((x, i) => {
    assert.ok(Object.is(out[i]!.value, x), `${x} came back as ${String(out[i]!.value)} from ${out[i]!.text}`);
  });
  // Integers below 2^53 and everything from 2^-29 up to 2^53: exactly JavaScript's shortest text.
  xs.forEach((x, i) => {
    if (Math.abs(x) >= 2 ** -29 && Math.abs(x) < 2 ** 53) assert.equal(out[i]!.text, String(x), `text of ${x}`);
  });
});

test('full precision: -0 is "-0", so it parses back to the identical double', () => {
  const [m] = values(full, [-0]);
  assert.equal(m!.text, '-0');
  assert.ok(Object.is(m!.value, -0));
});

test('full precision beyond 2^53 and below 2^-29 stays exact, with at most 17 significant digits', () => {
  const xs = [2 ** 53, 2 ** 60, 2 ** 64 - 2048, 2 ** 64, 1e21, 1e22, 1.5e300, 1.7976931348623157e308, 5e-324, 1e-320, 3e-100, 2 ** -40];
  const out = values(full, xs);
  xs.forEach((x, i) => {
    assert.ok(Object.is(out[i]!.value, x), `${x} from ${out[i]!.text}`);
    const digits = out[i]!.text.replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    assert.ok(x < 2 ** 64 || digits.length <= 17, `${out[i]!.text} has ${digits.length} significant digits`);
  });
  assert.equal(out[1]!.text, '1152921504606846976', 'integers below 2^64 are written out whole');
  assert.equal(out[4]!.text, '1e+21', 'exponent form from 1e21 up, as in JavaScript');
});

test('property: every double parses back identical (random bits, subnormals, huge, tiny)', () => {
  const doubles = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => new Float64Array(new BigUint64Array([b]).buffer)[0]!).filter(Number.isFinite),
    fc.integer({ min: -100000, max: 100000 }).map((n) => n * 0.1),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  );
  fc.assert(fc.property(fc.array(doubles, { minLength: 1, maxLength: 50 }), (xs) => {
    const out = values(full, xs);
    xs.forEach((x, i) => {
      assert.ok(Object.is(out[i]!.value, x), `${x} came back as ${String(out[i]!.value)} from ${out[i]!.text}`);
      if (Math.abs(x) >= 2 ** -29 && Math.abs(x) < 2 ** 53) assert.equal(out[i]!.text, String(x), `shortest text of ${x}`);
    });
  }), { numRuns: 300 });
});

test('decimals: hand-worked cases, rounding half away from zero on the exact binary value', () => {
  // The doubles' exact values (Python's Decimal(x) prints them): 2.345 is 2.34500000000000019539…, so
  // it rounds up; 2.675 is 2.67499999999999982236…, and 1.005 is 1.00499999999999989341…, so they round
  // down, although their short forms end in 5; 1.45 is 1.44999999999999995559…, 1.55 is
  // 1.55000000000000004440…; 99.995 is 99.99500000000000454747…; 0.125 and 2.5 are exact halves and go
  // away from zero.
  const cases: [number, number, string][] = [
    [2.345, 2, '2.35'], [2.675, 2, '2.67'], [1.005, 2, '1'], [0.125, 2, '0.13'], [-0.125, 2, '-0.13'],
    [2.5, 0, '3'], [-2.5, 0, '-3'], [0.5, 0, '1'], [-0.4, 0, '0'], [-0.001, 2, '0'], [-0, 3, '0'],
    [123.456, 1, '123.5'], [1.45, 1, '1.4'], [1.55, 1, '1.6'], [0.1 + 0.2, 15, '0.3'], [99.995, 2, '100'],
    [99.9949, 2, '99.99'], [1e20, 2, '100000000000000000000'], [1234.5678, 0, '1235'], [5e-324, 2, '0'],
    [25.500000000000004, 3, '25.5'], [-7, 2, '-7'], [NaN, 2, 'null'], [1e-7, 15, '1e-7'],
  ];
  for (const [x, d, text] of cases) {
    const [m] = values(rounded(d), [x]);
    assert.equal(m!.text, text, `${x} to ${d} decimals`);
  }
});

test('decimals: a count is never rounded', () => {
  const out = encode(rounded(0), [{ ts: 0, value: 12345, point: 0, quality: 0, aggregate: 6 }, { ts: 0, value: 2.5, point: 0, quality: 0, aggregate: 1 }]);
  assert.deepEqual(out.map((m) => m.json), [
    { point: 'boiler.temp', unit: '°C', ts: 0, count: 12345, quality: 'good' },
    { point: 'boiler.temp', unit: '°C', ts: 0, mean: 3, quality: 'good' },
  ]);
});

test('property: decimals agree with toFixed on the exact value', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 15 }),
    fc.array(fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: -1000000, max: 1000000 }).map((n) => n / 1000), // many exact and near halves
      fc.double({ min: -1e20, max: 1e20, noNaN: true }),
    ), { minLength: 1, maxLength: 20 }),
    (d, xs) => {
      const out = values(rounded(d), xs);
      xs.forEach((x, i) => {
        const expected = Number(x.toFixed(d));
        assert.equal(out[i]!.value, expected === 0 ? 0 : expected, `${x} to ${d} decimals gave ${out[i]!.text}`);
        assert.doesNotMatch(out[i]!.text, /^-0$/, 'no negative zero');
      });
    },
  ), { numRuns: 300 });
});
