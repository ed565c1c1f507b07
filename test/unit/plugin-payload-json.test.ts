// payload decoder, JSON bodies (RFC 8259), and how it picks a body's format. Numbers are expected as
// JavaScript's Number() reads the same text (the ABI's rule for numbers in JSON); what RFC 8259's
// grammar refuses (leading zeros, a bare dot, a trailing comma, an unknown escape) is malformed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ARRIVED, decode, hex, payloadDecoder, summary } from '../support/payload-plugin.js';

const GOOD = 0;
const SUSPECT = 1;
const BAD = 2;
const NUMBER = 0;
const BOOL = 1;
const JSON_MEDIA = 'application/json';

test('a point\'s resource: a number, true/false, null, or {value, ts, quality}', () => {
  const d = payloadDecoder([['t']]);
  const bodies = ['21.5', ' -0 ', '1E400', '-1.5e-3', '123456789012345678901234567890', 'true', 'false', 'null'];
  const samples = decode(d, bodies.map((body) => ({ body, point: 0, media: JSON_MEDIA })));
  assert.deepEqual(samples.map((s) => s.value), [21.5, -0, Infinity, -0.0015, 123456789012345678901234567890, 1, 0, NaN]);
  assert.deepEqual(samples.map((s) => [s.quality, s.type]), [[GOOD, NUMBER], [GOOD, NUMBER], [BAD, NUMBER], [GOOD, NUMBER], [GOOD, NUMBER], [GOOD, BOOL], [GOOD, BOOL], [BAD, NUMBER]]);
  assert.ok(samples.every((s) => s.ts === ARRIVED));
  const [r] = decode(d, [{ body: '{"ts": 1700000001234, "quality": "suspect", "value": 7, "unit": "degC"}', point: 0, media: JSON_MEDIA }]);
  assert.deepEqual([r!.value, r!.ts, r!.quality], [7, 1700000001234, SUSPECT]);
  const [q] = decode(d, [{ body: '{"value": null, "quality": 3}', point: 0 }]);
  assert.ok(Number.isNaN(q!.value));
  assert.equal(q!.quality, 3);
  assert.equal(d.instance.stats()!.malformed, 0);
});

test('a device\'s resource: an object of its points by name, each a value or a reading object; other names counted', () => {
  const d = payloadDecoder([['temp', 'hum'], ['temp']]);
  const samples = decode(d, [
    { body: '{"temp": 21.5, "hum": {"value": 40, "quality": "suspect"}, "battery": 3.1}', device: 0, media: JSON_MEDIA },
    { body: '{"temp": -4}', device: 1, media: JSON_MEDIA },
  ]);
  assert.deepEqual(summary(samples), [[0, 21.5, GOOD, NUMBER], [1, 40, SUSPECT, NUMBER], [2, -4, GOOD, NUMBER]]);
  const stats = d.instance.stats()!;
  assert.deepEqual([stats.pushed, stats.samples, stats.unknown_points], [2, 3, 1]);
  // A text or an array is no reading: counted, the rest of the body still read.
  assert.deepEqual(summary(decode(d, [{ body: '{"temp": "warm", "hum": [1]}', device: 0 }])), []);
  assert.equal(d.instance.stats()!.unusable_values, 2);
});

test('what RFC 8259 does not allow, and shapes that are no reading, are malformed: skipped whole and counted, the batch goes on', () => {
  const d = payloadDecoder([['t']]);
  const malformed = [
    '', ' ', '01', '1.', '.5', '+1', '-', '1e', '0x10', 'NaN', 'Infinity', 'tru', 'nul', '1 2', '21.5,',
    '{"value": 1', '{"value" 1}', '{"value": 1,}', '[1,]', "{'value': 1}", '"\\x"', '"a\u0001"', '{"value": "\\u12"}',
    '{"ts": 1}', '{"value": 1, "quality": "fine"}', '{"value": 1, "quality": 4}', '{"value": 1, "ts": "yesterday"}',
    '[1]', '"21.5"', '[' .repeat(100_000) + ']'.repeat(100_000),
  ];
  for (const body of malformed) {
    const samples = decode(d, [{ body, point: 0, media: JSON_MEDIA }, { body: '1', point: 0, media: JSON_MEDIA }]);
    assert.deepEqual(summary(samples), [[0, 1, GOOD, NUMBER]], JSON.stringify(body.slice(0, 40)));
  }
  assert.equal(d.instance.stats()!.malformed, malformed.length);
  // A bare value for a device's resource names no point.
  assert.deepEqual(decode(d, [{ body: '21.5', device: 0 }]), []);
  // Half a device object is not data: the reading before the bad member is taken back too.
  assert.deepEqual(decode(d, [{ body: '{"t": 1, "t": {"quality": "good"}}', device: 0 }]), []);
  assert.equal(d.instance.stats()!.malformed, malformed.length + 2);
});

test('format auto: by media type (JSON, text/plain, +json; CBOR, +cbor), else JSON when it reads as JSON, else CBOR; other media counted', () => {
  const d = payloadDecoder([['t']]);
  const samples = decode(d, [
    { body: '21.5', point: 0, media: 'application/json; charset=utf-8' },
    { body: '22', point: 0, media: 'text/plain' },
    { body: '23', point: 0, media: 'application/senml+json' },
    { body: hex('f94d60'), point: 0, media: 'application/cbor' },
    { body: hex('1818'), point: 0, media: 'application/senml+cbor' },
    { body: '25', point: 0 },
    { body: hex('f93e00'), point: 0 },
    { body: '26', point: 0, media: 'application/octet-stream' },
  ]);
  assert.deepEqual(samples.map((s) => s.value), [21.5, 22, 23, 21.5, 24, 25, 1.5]);
  assert.equal(d.instance.stats()!.unsupported_media, 1);
  // A JSON text declared as CBOR is read as CBOR ("2" is 0x32, CBOR -19, then a byte too many).
  assert.deepEqual(decode(d, [{ body: '21', point: 0, media: 'application/cbor' }]), []);
  assert.equal(d.instance.stats()!.malformed, 1);
});

test('format json or cbor reads every body as that, whatever its media type', () => {
  const cbor = payloadDecoder([['t']], { format: 'cbor' });
  assert.deepEqual(decode(cbor, [{ body: hex('1864'), point: 0, media: 'application/json' }]).map((s) => s.value), [100]);
  const json = payloadDecoder([['t']], { format: 'json' });
  assert.deepEqual(decode(json, [{ body: '100', point: 0, media: 'application/octet-stream' }]).map((s) => s.value), [100]);
});

test('records that are not pushed frames, and a point that is not the record\'s device\'s, are counted and skipped', () => {
  const d = payloadDecoder([['a'], ['b']]);
  assert.deepEqual(decode(d, [{ body: '1', point: 0, status: 0 }, { body: '1', point: 1, device: 0 }, { body: '1', point: 7, device: 0 }]), []);
  const stats = d.instance.stats()!;
  assert.deepEqual([stats.not_pushed, stats.unmapped, stats.pushed], [1, 2, 0]);
});
