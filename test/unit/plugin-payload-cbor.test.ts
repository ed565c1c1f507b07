// payload decoder, CBOR bodies, against the examples of RFC 8949 Appendix A (encoded bytes and the
// value each stands for, both copied from the RFC's table) and the not-well-formed examples of
// Appendix F.1. A CBOR body is pushed to a point's resource (a value, or a map {value, ts, quality})
// or to a device's (a map of its points by name).
import test from 'node:test';
import assert from 'node:assert/strict';
import { ARRIVED, decode, hex, payloadDecoder, summary } from '../support/payload-plugin.js';

const GOOD = 0;
const BAD = 2;
const NUMBER = 0;
const BOOL = 1;
const CBOR = 'application/cbor';

// Appendix A: [diagnostic value, encoded].
const NUMBERS: Array<[number, string]> = [
  [0, '00'], [1, '01'], [10, '0a'], [23, '17'], [24, '1818'], [25, '1819'], [100, '1864'], [1000, '1903e8'],
  [1000000, '1a000f4240'], [1000000000000, '1b000000e8d4a51000'],
  [18446744073709551615, '1bffffffffffffffff'], [18446744073709551616, 'c249010000000000000000'],
  [-18446744073709551616, '3bffffffffffffffff'], [-18446744073709551617, 'c349010000000000000000'],
  [-1, '20'], [-10, '29'], [-100, '3863'], [-1000, '3903e7'],
  [0.0, 'f90000'], [-0.0, 'f98000'], [1.0, 'f93c00'], [1.1, 'fb3ff199999999999a'], [1.5, 'f93e00'],
  [65504.0, 'f97bff'], [100000.0, 'fa47c35000'], [3.4028234663852886e+38, 'fa7f7fffff'], [1.0e+300, 'fb7e37e43c8800759c'],
  [5.960464477539063e-8, 'f90001'], [0.00006103515625, 'f90400'], [-4.0, 'f9c400'], [-4.1, 'fbc010666666666666'],
  [Infinity, 'f97c00'], [-Infinity, 'f9fc00'], [Infinity, 'fa7f800000'], [-Infinity, 'faff800000'],
  [Infinity, 'fb7ff0000000000000'], [-Infinity, 'fbfff0000000000000'],
  // A tag the decoder does not know is read as the value it encloses (1: epoch time; 23: base16).
  [1363896240, 'c11a514b67b0'], [1363896240.5, 'c1fb41d452d9ec200000'],
];

test('Appendix A numbers, pushed to a point\'s resource, are the values the RFC gives (bignums rounded to doubles)', () => {
  const d = payloadDecoder([['t']]);
  for (const [value, encoded] of NUMBERS) {
    const samples = decode(d, [{ body: hex(encoded), point: 0, media: CBOR }]);
    assert.equal(samples.length, 1, encoded);
    assert.ok(Object.is(samples[0]!.value, value), `${encoded}: ${samples[0]!.value} is not ${value}`);
    // An infinity is no measurement a sink can carry (JSON writes null): quality bad, like NaN.
    assert.deepEqual([samples[0]!.quality, samples[0]!.type, samples[0]!.ts], [Number.isFinite(value) ? GOOD : BAD, NUMBER, ARRIVED], encoded);
  }
  assert.equal(d.instance.stats()!.malformed, 0);
  assert.equal(d.instance.stats()!.pushed, NUMBERS.length);
});

test('Appendix A NaNs are NaN (written as the one canonical NaN) with quality bad; false and true are bools; null and undefined NaN bad', () => {
  const d = payloadDecoder([['t']]);
  for (const encoded of ['f97e00', 'fa7fc00000', 'fb7ff8000000000000', 'f6', 'f7']) {
    const [s] = decode(d, [{ body: hex(encoded), point: 0, media: CBOR }]);
    assert.ok(Number.isNaN(s!.value), encoded);
    assert.equal(s!.quality, BAD, encoded);
  }
  assert.deepEqual(summary(decode(d, [{ body: hex('f4'), point: 0, media: CBOR }, { body: hex('f5'), point: 0, media: CBOR }])), [[0, 0, GOOD, BOOL], [0, 1, GOOD, BOOL]]);
});

test('Appendix A items that are no reading (a text, a byte string, simple(16), an array) are counted as unusable, the body still read', () => {
  const d = payloadDecoder([['t']]);
  assert.deepEqual(decode(d, [{ body: hex('f0'), point: 0, media: CBOR }, { body: hex('d74401020304'), point: 0, media: CBOR }]), []);
  const stats = d.instance.stats()!;
  assert.deepEqual([stats.pushed, stats.unusable_values, stats.malformed], [2, 2, 0]);
  // At the top of a point's body a string or an array is not a value at all: malformed.
  assert.deepEqual(decode(d, [{ body: hex('6449455446'), point: 0, media: CBOR }, { body: hex('83010203'), point: 0, media: CBOR }]), []);
  assert.equal(d.instance.stats()!.malformed, 2);
});

test('Appendix A maps pushed to a device\'s resource: members named after its points, definite and indefinite length', () => {
  const d = payloadDecoder([['a', 'b'], ['Fun', 'Amt']]);
  // {"a": 1, "b": [2, 3]}: a is 1, b is an array (unusable).
  assert.deepEqual(summary(decode(d, [{ body: hex('a26161016162820203'), device: 0, media: CBOR }])), [[0, 1, GOOD, NUMBER]]);
  // {_ "Fun": true, "Amt": -2}
  assert.deepEqual(summary(decode(d, [{ body: hex('bf6346756ef563416d7421ff'), device: 1, media: CBOR }])), [[2, 1, GOOD, BOOL], [3, -2, GOOD, NUMBER]]);
  // {1: 2, 3: 4}: keys that are not text name no point.
  assert.deepEqual(decode(d, [{ body: hex('a201020304'), device: 0, media: CBOR }]), []);
  // {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}: a and b unusable (text), c, d, e no points.
  assert.deepEqual(decode(d, [{ body: hex('a56161614161626142616361436164614461656145'), device: 0, media: CBOR }]), []);
  const stats = d.instance.stats()!;
  assert.deepEqual([stats.pushed, stats.samples, stats.unknown_points, stats.unusable_values, stats.malformed], [4, 3, 5, 3, 0]);
});

test('a reading map carries its time (tag 1 seconds, or ms) and quality (a word or 0 to 3)', () => {
  const d = payloadDecoder([['t']]);
  // {"value": 21.5 (half 0x4d60: 1376 x 2^-6), "ts": 1(1363896240.5), "quality": "suspect"}
  const body = hex('a3 6576616c7565 f94d60 627473 c1fb41d452d9ec200000 677175616c697479 67737573706563 74');
  const [s] = decode(d, [{ body, point: 0, media: CBOR }]);
  assert.deepEqual([s!.value, s!.ts, s!.quality], [21.5, 1363896240500, 1]);
  // {"quality": 3, "value": 1, "ts": 1000000000000}: ms, any order.
  const [t] = decode(d, [{ body: hex('a3 677175616c697479 03 6576616c7565 01 627473 1b000000e8d4a51000'), point: 0, media: CBOR }]);
  assert.deepEqual([t!.value, t!.ts, t!.quality], [1, 1000000000000, 3]);
  // Without value, with a quality of 4, with a text time: malformed, nothing written.
  for (const bad of ['a1 627473 01', 'a2 6576616c7565 01 677175616c697479 04', 'a2 6576616c7565 01 627473 c074323031332d30332d32315432303a30343a30305a']) {
    assert.deepEqual(decode(d, [{ body: hex(bad), point: 0, media: CBOR }]), [], bad);
  }
  assert.equal(d.instance.stats()!.malformed, 3);
});

// Appendix F.1: not-well-formed CBOR, one example of each kind the RFC lists.
const NOT_WELL_FORMED = [
  '18', '19', '1a', '1b', '1901', '1a0102', '1b01020304050607', '38', '58', '78', '98', '9a01ff00', 'b8', 'd8', 'f8', 'f900', 'fa0000', 'fb000000', // end of input in a head
  '41', '61', '5affffffff00', '5bffffffffffffffff010203', '7affffffff00', '7b7fffffffffffffff010203', // definite strings with short data
  '81', '818181818181818181', '8200', 'a1', 'a20102', 'a100', 'a2000000', 'c0', 'd80d', // definite arrays and maps with too few items, a tag without content
  '5f4100', '5f410000', '7f6100', '9f', '9f0102', 'bf', 'bf01020102', '819f', '9f8000', '9f9f9f9f9fffffffff', '9f819f819f9fffffff', // indefinite items without their break
  '1c', '1d', '1e', '3c', '3d', '3e', '5c', '5d', '5e', '7c', '7d', '7e', '9c', '9d', '9e', 'bc', 'bd', 'be', 'dc', 'dd', 'de', 'fc', 'fd', 'fe', // reserved additional information
  'f800', 'f801', 'f818', 'f81f', // two-byte simple values below 32
  '5f00ff', '5f21ff', '5f6100ff', '5f80ff', '5fa0ff', '5fc000ff', '5fe0ff', '7f4100ff', // indefinite string chunks of the wrong type
  '5f5f4100ffff', '7f7f6100ffff', // indefinite chunks inside an indefinite string
  'ff', '81ff', '8200ff', 'a1ff', 'a1ff00', 'a100ff', 'a20000ff', '9f81ff', '9f829f819f9fffffffff', // a break outside an indefinite item
  '1f', '3f', '5f', 'df', 'ff', // additional information 31 where it is not allowed... 5f alone: no break
];

test('Appendix F.1 not-well-formed examples are each skipped and counted as malformed, never a trap; the batch goes on', () => {
  const d = payloadDecoder([['t']]);
  for (const encoded of NOT_WELL_FORMED) {
    const samples = decode(d, [{ body: hex(encoded), point: 0, media: CBOR }, { body: hex('f93e00'), point: 0, media: CBOR }]);
    assert.deepEqual(summary(samples), [[0, 1.5, GOOD, NUMBER]], encoded);
  }
  const stats = d.instance.stats()!;
  assert.deepEqual([stats.malformed, stats.pushed], [NOT_WELL_FORMED.length, NOT_WELL_FORMED.length]);
});

test('bytes after the item, and nesting deeper than 16 (arrays, maps or tags), are malformed without recursing into them', () => {
  const d = payloadDecoder([['t']]);
  const deep = (open: string, n: number, close = '') => hex(open.repeat(n) + '01' + close.repeat(n));
  assert.deepEqual(decode(d, [{ body: hex('0101'), point: 0, media: CBOR }]), []);
  assert.deepEqual(decode(d, [{ body: deep('81', 100_000), point: 0, media: CBOR }]), []);
  assert.deepEqual(decode(d, [{ body: deep('c1', 100_000), point: 0, media: CBOR }]), []);
  assert.deepEqual(decode(d, [{ body: deep('9f', 100_000, 'ff'), point: 0, media: CBOR }]), []);
  assert.equal(d.instance.stats()!.malformed, 4);
  // A count far past the body's bytes is refused before any loop runs.
  assert.deepEqual(decode(d, [{ body: hex('9bffffffffffffffff'), point: 0, media: CBOR }]), []);
  assert.equal(d.instance.stats()!.malformed, 5);
});

test('a malformed body is logged once a batch at warn, with its sender and resource', () => {
  const d = payloadDecoder([['t']]);
  decode(d, [{ body: hex('1c'), point: 0, media: CBOR, sender: '192.0.2.7:40111', resource: '/sensors/t' }, { body: hex('ff'), point: 0, media: CBOR }]);
  const warnings = d.logs.filter((l) => l.level === 40).map((l) => l.message);
  assert.deepEqual(warnings, ['malformed CBOR body (syntax) from 192.0.2.7:40111 to /sensors/t, skipped']);
});
