// json encoder: shapes, keys, includes, timestamps, text and names. Expected objects are written by
// hand; ISO strings come from Date.prototype.toISOString and invalid UTF-8 from TextDecoder (the WHATWG
// decoder), as independent implementations.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isWgError } from '../../src/host/errors.js';
import { loadPluginManifest } from '../../src/host/config/plugin-manifest.js';
import { NO_POINT } from '../../src/host/engine/abi.js';
import { encodeSamples } from '../../src/host/engine/sample-batch.js';
import { REPO_ROOT, compileBuiltPlugin } from '../support/plugins.js';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { batchWithRawText, decodeMessages, encode, jsonEncoder, settingsDocument } from './plugin-json-harness.js';

const T = Date.UTC(2026, 10, 23, 21, 4, 5, 123); // 2026-11-23T21:04:05.123Z

test('sample shape: one message per sample, tagged with its point, with name, unit, ts, value, quality', () => {
  const out = encode(jsonEncoder(), [
    { ts: T, value: 21.5, point: 0, quality: 0 },
    { ts: T, value: 1013.25, point: 1, quality: 1 },
    { ts: T + 1, value: 'SN-42', point: 2, quality: 0 },
    { ts: T + 2, value: 1, point: 0, quality: 2, type: 1 },
    { ts: T + 3, value: 0, point: 1, quality: 3, type: 1 },
  ]);
  assert.deepEqual(out.map((m) => m.point), [0, 1, 2, 0, 1]);
  assert.deepEqual(out.map((m) => m.json), [
    { point: 'boiler.temp', unit: '°C', ts: T, value: 21.5, quality: 'good' },
    { point: 'line.pressure', unit: 'mbar', ts: T, value: 1013.25, quality: 'suspect' },
    { point: 'serial', unit: '', ts: T + 1, value: 'SN-42', quality: 'good' },
    { point: 'boiler.temp', unit: '°C', ts: T + 2, value: true, quality: 'bad' },
    { point: 'line.pressure', unit: 'mbar', ts: T + 3, value: false, quality: 'no-comm' },
  ]);
});

test('an empty batch gives no messages in every shape', () => {
  for (const shape of ['sample', 'bucket', 'batch']) {
    assert.equal(jsonEncoder({ with: { shape } }).process(encodeSamples([])).byteLength, 0, shape);
  }
});

test('batch shape: one message about no single point holding an array of every sample', () => {
  const instance = jsonEncoder({ with: { shape: 'batch' } });
  const out = encode(instance, [
    { ts: T, value: 1, point: 0, quality: 0 },
    { ts: T, value: -2.5, point: 1, quality: 0 },
    { ts: T, value: 'on', point: 2, quality: 1 },
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.point, undefined, `tagged ${NO_POINT.toString(16)}`);
  assert.deepEqual(out[0]!.json, [
    { point: 'boiler.temp', unit: '°C', ts: T, value: 1, quality: 'good' },
    { point: 'line.pressure', unit: 'mbar', ts: T, value: -2.5, quality: 'good' },
    { point: 'serial', unit: '', ts: T, value: 'on', quality: 'suspect' },
  ]);
  const single = encode(instance, [{ ts: T, value: 7, point: 1, quality: 0 }]);
  assert.deepEqual(single[0]!.json, [{ point: 'line.pressure', unit: 'mbar', ts: T, value: 7, quality: 'good' }]);
});

test('bucket shape: a point\'s aggregates at one time in one object, raw samples alone, count as an integer', () => {
  const instance = jsonEncoder({ with: { shape: 'bucket' } });
  const out = encode(instance, [
    { ts: T, value: 1.5, point: 0, quality: 0, aggregate: 1 },
    { ts: T, value: 1, point: 0, quality: 0, aggregate: 2 },
    { ts: T, value: 2, point: 0, quality: 1, aggregate: 3 },
    { ts: T, value: 3, point: 0, quality: 0, aggregate: 6 },
    { ts: T, value: 10, point: 1, quality: 0, aggregate: 1 },
    { ts: T, value: 30, point: 1, quality: 0, aggregate: 7 },
    { ts: T + 5, value: 99, point: 1, quality: 0 },
    { ts: T + 60000, value: 2.25, point: 0, quality: 0, aggregate: 4 },
    { ts: T + 60000, value: 2.75, point: 0, quality: 0, aggregate: 5 },
  ]);
  assert.deepEqual(out.map((m) => m.point), [0, 1, 1, 0]);
  assert.deepEqual(out.map((m) => m.json), [
    { point: 'boiler.temp', unit: '°C', ts: T, mean: 1.5, min: 1, max: 2, count: 3, quality: 'suspect' },
    { point: 'line.pressure', unit: 'mbar', ts: T, mean: 10, sum: 30, quality: 'good' },
    { point: 'line.pressure', unit: 'mbar', ts: T + 5, value: 99, quality: 'good' },
    { point: 'boiler.temp', unit: '°C', ts: T + 60000, first: 2.25, last: 2.75, quality: 'good' },
  ]);
  assert.match(out[0]!.text, /"count":3[,}]/, 'count written as an integer');
});

test('bucket shape: a new timestamp, another point or a repeated aggregate starts a new bucket', () => {
  const out = encode(jsonEncoder({ with: { shape: 'bucket' } }), [
    { ts: T, value: 1, point: 0, quality: 0, aggregate: 1 },
    { ts: T + 1, value: 2, point: 0, quality: 0, aggregate: 1 },
    { ts: T + 1, value: 3, point: 0, quality: 0, aggregate: 1 },
    { ts: T + 1, value: 4, point: 1, quality: 0, aggregate: 1 },
  ]);
  assert.deepEqual(out.map((m) => [m.point, (m.json as { mean: number }).mean]), [[0, 1], [0, 2], [0, 3], [1, 4]]);
});

test('sample and batch shapes name an aggregate sample\'s aggregate as its key', () => {
  for (const shape of ['sample', 'batch']) {
    const out = encode(jsonEncoder({ with: { shape } }), [
      { ts: T, value: 4.5, point: 0, quality: 0, aggregate: 1 },
      { ts: T, value: 12, point: 0, quality: 0, aggregate: 6 },
    ]);
    const objects = shape === 'batch' ? (out[0]!.json as unknown[]) : out.map((m) => m.json);
    assert.deepEqual(objects, [
      { point: 'boiler.temp', unit: '°C', ts: T, mean: 4.5, quality: 'good' },
      { point: 'boiler.temp', unit: '°C', ts: T, count: 12, quality: 'good' },
    ], shape);
  }
});

test('ISO timestamps read like Date.prototype.toISOString, fractions of a millisecond floored', () => {
  const instance = jsonEncoder({ with: { timestamp: 'iso' } });
  const cases = [
    T,
    0,
    -1, // 1969-12-31T23:59:59.999Z
    -86400000 * 365.25 * 70, // 1900
    Date.UTC(2100, 0, 1), // 2100 is no leap year
    Date.UTC(2100, 1, 28, 23, 59, 59, 999),
    Date.UTC(2024, 1, 29, 12), // leap day
    Date.UTC(2000, 1, 29, 23, 59, 59, 999), // leap day of a year divisible by 400
    Date.UTC(1600, 1, 29),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    -62167219200000, // 0000-01-01T00:00:00.000Z
    -62167219200000 + 59 * 86400000 + 12345, // 0000-02-29, a leap day (year 0 is divisible by 400)
  ];
  for (const ms of cases) {
    const [m] = encode(instance, [{ ts: ms, value: 0, point: 0, quality: 0 }]);
    assert.equal((m!.json as { ts: string }).ts, new Date(Math.floor(ms)).toISOString(), String(ms));
  }
  const fractions = [
    [1.5, '1970-01-01T00:00:00.001Z'],
    [T + 0.999, new Date(T).toISOString()],
    [-0.5, '1969-12-31T23:59:59.999Z'],
    [-2.25, '1969-12-31T23:59:59.997Z'], // floor(-2.25) = -3
  ] as const;
  for (const [ms, iso] of fractions) {
    const [m] = encode(instance, [{ ts: ms, value: 0, point: 0, quality: 0 }]);
    assert.equal((m!.json as { ts: string }).ts, iso, String(ms));
  }
  // Outside the four-digit years (where toISOString writes "+010000" or "-000001") and for NaN: null.
  for (const ms of [NaN, Infinity, -Infinity, Date.UTC(10000, 0, 1), -62167219200001, 8.64e15, -8.64e15]) {
    const [m] = encode(instance, [{ ts: ms, value: 0, point: 0, quality: 0 }]);
    assert.equal((m!.json as { ts: unknown }).ts, null, `${ms} has no four-digit-year ISO form`);
  }
});

test('epoch timestamps are numbers that parse back exactly, fractions kept; NaN is null', () => {
  const instance = jsonEncoder();
  for (const ms of [T, 0, -1, T + 0.25, 1.5e-3, -8.64e15]) {
    const [m] = encode(instance, [{ ts: ms, value: 0, point: 0, quality: 0 }]);
    assert.ok(Object.is((m!.json as { ts: number }).ts, ms), String(ms));
  }
  const [m] = encode(instance, [{ ts: NaN, value: 0, point: 0, quality: 0 }]);
  assert.equal((m!.json as { ts: unknown }).ts, null);
});

test('fields rename keys and an empty name leaves the key out', () => {
  const instance = jsonEncoder({ with: { fields: { point: 'name', value: 'v', ts: 'time', quality: '', unit: 'u' } } });
  const [m] = encode(instance, [{ ts: T, value: 3, point: 1, quality: 2 }]);
  assert.deepEqual(m!.json, { name: 'line.pressure', u: 'mbar', time: T, v: 3 });
  const bare = jsonEncoder({ with: { fields: { point: '', value: '', ts: '', quality: '', unit: '' } } });
  assert.deepEqual(encode(bare, [{ ts: T, value: 3, point: 1, quality: 2 }])[0]!.json, {});
});

test('include adds the device name and the pipeline, or drops unit and quality', () => {
  const instance = jsonEncoder({ with: { include: { device: true, pipeline: true, unit: false, quality: false } } });
  const out = encode(instance, [
    { ts: T, value: 1, point: 0, quality: 0 },
    { ts: T, value: 2, point: 1, quality: 0 },
  ]);
  assert.deepEqual(out.map((m) => m.json), [
    { point: 'boiler.temp', device: 'plc1', pipeline: 'boiler-room', ts: T, value: 1 },
    { point: 'line.pressure', device: 'plc2', pipeline: 'boiler-room', ts: T, value: 2 },
  ]);
  const renamed = jsonEncoder({ with: { include: { device: true }, fields: { device: 'plc' } } });
  assert.deepEqual(encode(renamed, [{ ts: T, value: 1, point: 1, quality: 0 }])[0]!.json, {
    point: 'line.pressure', unit: 'mbar', plc: 'plc2', ts: T, value: 1, quality: 'good',
  });
});

test('NaN and infinities have no JSON form: null', () => {
  const out = encode(jsonEncoder(), [
    { ts: T, value: NaN, point: 0, quality: 3 },
    { ts: T, value: Infinity, point: 0, quality: 0 },
    { ts: T, value: -Infinity, point: 0, quality: 0 },
  ]);
  assert.deepEqual(out.map((m) => (m.json as { value: unknown }).value), [null, null, null]);
});

test('an unknown quality code is written as its number', () => {
  const [m] = encode(jsonEncoder(), [{ ts: T, value: 1, point: 0, quality: 200 }]);
  assert.equal((m!.json as { quality: unknown }).quality, 200);
});

test('a point id the settings do not know: names are null and the message is about no point', () => {
  const [m] = encode(jsonEncoder({ with: { include: { device: true } } }), [{ ts: T, value: 1, point: 7, quality: 0 }]);
  assert.equal(m!.point, undefined);
  assert.deepEqual(m!.json, { point: null, unit: null, device: null, ts: T, value: 1, quality: 'good' });
});

test('text values keep quotes, backslashes, controls and unicode, escaped as JSON', () => {
  const texts = ['say "hi"', 'C:\\temp\\', 'two\nlines\r\n\ttab', '\u0000\u0001\u001f\u007f', 'Grüße 温度 🌡️', '\u2028\u2029', ''];
  const out = encode(jsonEncoder(), texts.map((value, i) => ({ ts: T + i, value, point: 2, quality: 0 })));
  assert.deepEqual(out.map((m) => (m.json as { value: string }).value), texts);
  assert.match(out[3]!.text, /"\\u0000\\u0001\\u001f\u007f"/, 'controls as \\u00XX, DEL as is');
  assert.match(out[2]!.text, /"two\\nlines\\r\\n\\ttab"/, 'short escapes');
});

test('invalid UTF-8 in text becomes U+FFFD the way TextDecoder reads it', () => {
  const cases = [
    [0xff],
    [0x61, 0x80, 0x62],
    [0xc3], // truncated at the end
    [0xc0, 0xaf], // overlong
    [0xe0, 0x80, 0x80], // overlong, three replacements
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf0, 0x9f, 0x8c], // truncated emoji
    [0xe2, 0x82, 0x41], // broken in the middle
    [0xc3, 0xa9, 0xff, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x8c, 0xa1, 0x22], // valid around invalid, and a quote
  ].map((bytes) => new Uint8Array(bytes));
  const batch = batchWithRawText(cases.map((value) => ({ ts: T, value, point: 2, quality: 0, type: 2 })));
  const out = decodeMessages(jsonEncoder().process(batch));
  const lenient = new TextDecoder('utf-8');
  assert.deepEqual(out.map((m) => (m.json as { value: string }).value), cases.map((b) => lenient.decode(b)));
});

test('names, units and device names with quotes, backslashes and unicode come back exactly', () => {
  const points = [
    { name: 'say "hi"', unit: 'a\\b', device: 0 },
    { name: 'Grüße/温度/🌡️', unit: '°C\n', device: 1 },
    { name: 'lone \ud800 surrogate \udfff', unit: '\u0001', device: 0 },
  ];
  const devices = ['plc "one"', 'plc\t2 ✓'];
  const instance = jsonEncoder({ points, devices, pipeline: 'p"\\', with: { include: { device: true, pipeline: true } } });
  const out = encode(instance, points.map((_, point) => ({ ts: T, value: point, point, quality: 0 })));
  assert.deepEqual(out.map((m) => m.json), points.map((p, i) => ({
    point: p.name, unit: p.unit, device: devices[p.device], pipeline: 'p"\\', ts: T, value: i, quality: 'good',
  })));
});

test('renamed keys may hold any characters', () => {
  const instance = jsonEncoder({ with: { fields: { value: 'va"l\\ue 🌡', ts: '\n' } } });
  const [m] = encode(instance, [{ ts: T, value: 2, point: 0, quality: 0 }]);
  assert.deepEqual(m!.json, { point: 'boiler.temp', unit: '°C', '\n': T, 'va"l\\ue 🌡': 2, quality: 'good' });
});

test('a batch that does not hold what its header says is refused as bad input', () => {
  const instance = jsonEncoder();
  const good = encodeSamples([{ ts: T, value: 'abc', point: 2, quality: 0 }]);
  const cases = [
    good.subarray(0, 4),
    good.subarray(0, good.byteLength - 1), // text heap cut short
    (() => { const b = good.slice(); new DataView(b.buffer).setUint32(0, 1000, true); return b; })(),
    (() => { const b = good.slice(); new DataView(b.buffer).setUint32(8 + 8, 2, true); return b; })(), // text offset past the heap
  ];
  for (const batch of cases) {
    assert.throws(() => instance.process(batch), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_STATUS') && /BAD_INPUT/.test(err.message));
  }
  assert.equal(decodeMessages(instance.process(good)).length, 1, 'still usable afterwards');
});

test('settings a schema would refuse are refused at configure time, naming the setting', () => {
  const cases = [
    [{ shape: 'rows' }, /with\.shape is not valid/],
    [{ timestamp: 'unix' }, /with\.timestamp is not valid/],
    [{ decimals: 16 }, /with\.decimals is not valid/],
    [{ decimals: 1.5 }, /with\.decimals is not valid/],
    [{ decimals: -2 }, /with\.decimals is not valid/],
    [{ fields: { ts: 3 } }, /with\.fields is not valid/],
    [{ include: { unit: 'yes' } }, /with\.include is not valid/],
  ] as const;
  for (const [settings, message] of cases) {
    assert.throws(() => jsonEncoder({ with: settings, raw: true }), (err: unknown) => {
      assert.ok(isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE'), String(err));
      assert.match(err.message, message);
      return true;
    }, JSON.stringify(settings));
  }
});

test('the manifest is valid, and with its defaults the plugin writes the documented object', async () => {
  const loaded = await loadPluginManifest(join(REPO_ROOT, 'plugins', 'json'));
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  const settings: Record<string, unknown> = {};
  assert.deepEqual(loaded.plugin.validateSettings(settings), []);
  assert.deepEqual(settings, {
    shape: 'sample',
    timestamp: 'epoch_ms',
    fields: { point: 'point', value: 'value', unit: 'unit', quality: 'quality', ts: 'ts', device: 'device' },
    include: { unit: true, quality: true, device: false, pipeline: false },
    decimals: -1,
  });
  const [message] = encode(jsonEncoder({ with: settings, raw: true }), [{ ts: T, value: 0.1, point: 0, quality: 0 }]);
  assert.equal(message!.text, `{"point":"boiler.temp","unit":"°C","ts":${T},"value":0.1,"quality":"good"}`);
  assert.ok(loaded.plugin.validateSettings({ shape: 'rows' }).length > 0);
  assert.ok(loaded.plugin.validateSettings({ fields: { colour: 'x' } }).length > 0);
});

test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  const document = settingsDocument() as { with: Record<string, unknown> };
  delete (document.with.include as Record<string, unknown>).quality;
  const instance = new PluginInstance(compileBuiltPlugin('json'));
  assert.throws(() => instance.configure(document), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.include\.quality: missing/.test(err.message));
});

