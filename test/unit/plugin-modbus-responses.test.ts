// modbus decoder, responses that are not good answers: failed polls, exception responses (Modbus
// Application Protocol Specification V1.1b3, 7), and frames that do not match their request. Each
// yields one sample per point of its request, NaN, marked no-comm or bad, and a warning when what is
// wrong with a read changes.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  answer, decodeRecords, FRAME_LINK_LOST, FRAME_TIMEOUT, modbusDecoder, registerPdu, tcpAdu, warnings, type FrameRecord,
} from '../support/modbus-plugin.js';

const GOOD = 0;
const BAD = 2;
const NO_COMM = 3;

// Two devices, three requests: device a FC 3 at 0-1 (points 0 and 1), device a FC 1 at 5 (point 2),
// device b FC 4 at 10 (point 3).
function decoder() {
  return modbusDecoder({
    devices: [{ name: 'boiler-plc', unit_id: 1 }, { name: 'pump-vfd', unit_id: 7 }],
    points: [
      { device: 0, function: 3, address: 0, type: 'int16' },
      { device: 0, function: 3, address: 1, type: 'string', length: 1 },
      { device: 0, function: 1, address: 5, type: 'bool' },
      { device: 1, function: 4, address: 10, type: 'uint16' },
    ],
  });
}
const FC1 = 0; // request indexes in plan order: device a FC 1, device a FC 3, device b FC 4
const FC3 = 1;
const FC4 = 2;

function summary(samples: ReturnType<typeof decodeRecords>): Array<[number, number | string, number]> {
  return samples.map((s) => [s.point, s.value, s.quality]);
}

/** A good answer with its response bytes changed by `mutate`. */
function tampered(record: FrameRecord, mutate: (response: Uint8Array) => Uint8Array | void): FrameRecord {
  const response = Uint8Array.from(record.response!);
  return { ...record, response: mutate(response) ?? response };
}

test('a timeout or a lost link gives exactly the request\'s points, NaN and no-comm, at the failure time', () => {
  const d = decoder();
  const samples = decodeRecords(d.instance, [
    answer(d.instance, FC3, null, { status: FRAME_TIMEOUT, ts: 5000 }),
    answer(d.instance, FC4, null, { status: FRAME_LINK_LOST, ts: 6000 }),
  ]);
  assert.deepEqual(summary(samples), [[0, NaN, NO_COMM], [1, NaN, NO_COMM], [3, NaN, NO_COMM]]);
  assert.deepEqual(samples.map((s) => s.ts), [5000, 5000, 6000]);
  assert.deepEqual(warnings(d), [], 'a failed poll is in the data stream, not the log');
});

test('good frames and failures keep their order in the batch', () => {
  const d = decoder();
  const samples = decodeRecords(d.instance, [
    answer(d.instance, FC4, registerPdu(4, [99])),
    answer(d.instance, FC1, null),
    answer(d.instance, FC1, [0x01, 0x01, 0x01]),
  ]);
  assert.deepEqual(summary(samples), [[3, 99, GOOD], [2, NaN, NO_COMM], [2, 1, GOOD]]);
});

// Names of the exception codes, Modbus Application Protocol Specification V1.1b3, section 7.
const MEANINGS: Record<number, string> = {
  1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'server device failure', 5: 'acknowledge',
  6: 'server device busy', 8: 'memory parity error', 10: 'gateway path unavailable', 11: 'gateway target device failed to respond',
};
const FC3_READ = 'device boiler-plc unit 1, function 3 \\(read holding registers\\) of addresses 0-1';

test('exception responses: gateway path unavailable (0x0A) and target failed (0x0B) are no-comm, others bad', () => {
  for (const code of [1, 2, 3, 4, 5, 6, 8, 10, 11]) {
    const quality = code === 10 || code === 11 ? NO_COMM : BAD;
    const d = decoder();
    const samples = decodeRecords(d.instance, [answer(d.instance, FC3, [0x83, code])]);
    assert.deepEqual(summary(samples), [[0, NaN, quality], [1, NaN, quality]], `exception ${code}`);
    const lines = warnings(d);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^${FC3_READ}: exception ${code} \\(${MEANINGS[code]}\\)`));
    assert.match(lines[0]!, new RegExp(`; points p0, p1: NaN, ${quality === BAD ? 'bad' : 'no-comm'};`));
  }
});

test('an exception code the specification does not define is bad and says so', () => {
  const d = decoder();
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, FC3, [0x83, 0x07])])), [[0, NaN, BAD], [1, NaN, BAD]]);
  assert.match(warnings(d)[0]!, /exception 7 \(not a code of the Modbus specification\)/);
});

test('spec 7 example: exception 02 (illegal data address) to a coil read is bad', () => {
  const d = decoder();
  const samples = decodeRecords(d.instance, [answer(d.instance, FC1, [0x81, 0x02])]);
  assert.deepEqual(summary(samples), [[2, NaN, BAD]]);
});

test('a response that does not fit its request is bad, and the warning says what was wrong', () => {
  const cases: Array<[string, (r: FrameRecord) => FrameRecord, RegExp]> = [
    ['transaction id', (r) => tampered(r, (b) => { b[1] = 8; }), /: transaction id 8, expected 7;/],
    ['protocol id', (r) => tampered(r, (b) => { b[3] = 1; }), /protocol id 1, expected 0/],
    ['unit id', (r) => tampered(r, (b) => { b[6] = 2; }), /unit id 2, expected 1/],
    ['MBAP length', (r) => tampered(r, (b) => { b[5] = 8; }), /MBAP length 8, expected 7/],
    ['function code', (r) => tampered(r, (b) => { b[7] = 4; }), /function code 4, expected 3/],
    ['byte count', (r) => ({ ...r, response: tcpAdu(7, 1, [0x03, 0x02, 0x00, 0x01]) }), /byte count 2, expected 4/],
    ['data length', (r) => ({ ...r, response: tcpAdu(7, 1, [0x03, 0x04, 0x00, 0x01, 0x41, 0x42, 0x00]) }), /PDU length 7, expected 6/],
    ['short', (r) => ({ ...r, response: Uint8Array.of(0, 7, 0, 0, 0, 2, 1, 3) }), /short response, length 8/],
  ];
  for (const [what, spoil, message] of cases) {
    const d = decoder();
    const good = answer(d.instance, FC3, registerPdu(3, [5, 0x4142]));
    const samples = decodeRecords(d.instance, [spoil(good)]);
    assert.deepEqual(summary(samples), [[0, NaN, BAD], [1, NaN, BAD]], what);
    const lines = warnings(d);
    assert.equal(lines.length, 1, what);
    assert.match(lines[0]!, new RegExp(`^${FC3_READ}: `), what);
    assert.match(lines[0]!, message, what);
  }
});

test('the unit id checked is the one of the request\'s own device', () => {
  const d = decoder();
  const samples = decodeRecords(d.instance, [answer(d.instance, FC4, registerPdu(4, [1]))]);
  assert.deepEqual(summary(samples), [[3, 1, GOOD]]);
  assert.equal(answer(d.instance, FC4, registerPdu(4, [1])).response![6], 7);
});

test('a record whose request frame is not this plan\'s is bad: the response answers another plan', () => {
  const d = decoder();
  const good = answer(d.instance, FC3, registerPdu(3, [5, 0x4142]));
  const otherStart = Uint8Array.from(good.request);
  otherStart[9] = 1; // start address 1 instead of 0
  const otherSeq = { ...good, ctx: { ...good.ctx, seq: 8 } }; // built with seq 7, recorded as 8
  const otherDevice = { ...good, ctx: { ...good.ctx, device: 1 } };
  for (const record of [{ ...good, request: otherStart }, otherSeq, otherDevice]) {
    const samples = decodeRecords(d.instance, [record]);
    assert.deepEqual(summary(samples), [[0, NaN, BAD], [1, NaN, BAD]]);
  }
  assert.match(warnings(d)[0]!, /request not as planned/);
});

test('a record for a request the plan does not have yields nothing and a warning', () => {
  const d = decoder();
  const good = answer(d.instance, FC4, registerPdu(4, [1]));
  const samples = decodeRecords(d.instance, [{ ...good, ctx: { ...good.ctx, request: 9 } }, good]);
  assert.deepEqual(summary(samples), [[3, 1, GOOD]]);
  assert.match(warnings(d)[0]!, /^device pump-vfd: dropped a record of request 9, which this plan of 3 requests does not have/);
});

// A device that answers a read with the same exception on every poll used to get a warning per
// batch, forever. The log now says it once per change of (device, request, code), with the count.
test('the same exception on every poll is one warning; the recovery says how many there were', () => {
  const d = decoder();
  for (let i = 0; i < 50; i++) decodeRecords(d.instance, [answer(d.instance, FC3, [0x83, 0x02])]);
  assert.equal(warnings(d).length, 1);
  assert.match(warnings(d)[0]!, /; repeats are counted, not logged$/);
  assert.equal(d.instance.stats()?.exception_responses, 50);
  decodeRecords(d.instance, [answer(d.instance, FC3, registerPdu(3, [5, 0x4142]))]);
  decodeRecords(d.instance, [answer(d.instance, FC3, registerPdu(3, [5, 0x4142]))]);
  const info = d.logs.filter((l) => l.level === 30).map((l) => l.message);
  assert.deepEqual(info, [`${FC3_READ.replace(/\\/g, '')}: answers again after 50 responses with exception 2`]);
});

test('a change of exception code is a new warning that counts the run before it', () => {
  const d = decoder();
  for (const code of [2, 2, 2, 4, 4, 2]) decodeRecords(d.instance, [answer(d.instance, FC3, [0x83, code])]);
  const lines = warnings(d);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /exception 4 \(server device failure\); before it, 3 responses with exception 2; points p0, p1: NaN, bad;/);
  assert.match(lines[2]!, /exception 2 \(illegal data address\): .*; before it, 2 responses with exception 4; points p0, p1: NaN, bad;/);
});

test('each read is judged on its own: one warning per failing request, none for the same again', () => {
  const d = decoder();
  const bad = (r: number, code: number) => answer(d.instance, r, [0x80 | [1, 3, 4][r]!, code]);
  const batch = () => [bad(FC1, 2), bad(FC3, 3), bad(FC4, 6)];
  decodeRecords(d.instance, [bad(FC1, 2), bad(FC3, 3), answer(d.instance, FC4, registerPdu(4, [1])), bad(FC4, 6)]);
  const lines = warnings(d);
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^device boiler-plc unit 1, function 1 \(read coils\) of address 5: exception 2 \(illegal data address\).*; points p2: NaN, bad;/);
  assert.match(lines[1]!, new RegExp(`^${FC3_READ}: exception 3 \\(illegal data value\\)`));
  // FC4 answered well, then with exception 6: one change, one line.
  assert.match(lines[2]!, /^device pump-vfd unit 7, function 4 \(read input registers\) of address 10: exception 6 \(server device busy\).*; points p3: NaN, bad;/);
  decodeRecords(d.instance, batch());
  assert.equal(warnings(d).length, 3, 'the same answers again log nothing');
});

test('a read of many points names the first four and counts the rest', () => {
  const d = modbusDecoder({ points: Array.from({ length: 6 }, (_, i) => ({ name: `tank${i}.level`, function: 4, address: 100 + i, type: 'uint16' })) });
  decodeRecords(d.instance, [answer(d.instance, 0, [0x84, 0x04])]);
  assert.match(warnings(d)[0]!, /of addresses 100-105: exception 4 \(server device failure\); points tank0\.level, tank1\.level, tank2\.level, tank3\.level and 2 more: NaN, bad;/);
});

test('a device name too long for the log line costs the end of the point list, not the news', () => {
  const name = 'x'.repeat(300);
  const d = modbusDecoder({ devices: [{ name, unit_id: 1 }], points: [{ name: 'p'.repeat(200), function: 3, address: 0, type: 'uint16' }] });
  decodeRecords(d.instance, [answer(d.instance, 0, [0x83, 0x06])]);
  const line = warnings(d)[0]!;
  assert.ok(line.startsWith(`device ${name} unit 1, function 3 (read holding registers) of address 0: exception 6 (server device busy): poll less often; points pp`), line);
  assert.ok(Buffer.byteLength(line) <= 512, `${Buffer.byteLength(line)} bytes`);
});

test('exception 2 to a read at 40001 or above adds the 1-based notation hint', () => {
  const hinted = modbusDecoder({ points: [{ function: 3, address: 40001, type: 'uint16' }, { function: 4, address: 30001, type: 'uint16' }] });
  decodeRecords(hinted.instance, [answer(hinted.instance, 0, [0x83, 0x02]), answer(hinted.instance, 1, [0x84, 0x02])]);
  assert.equal(warnings(hinted).length, 2);
  for (const line of warnings(hinted)) assert.match(line, /\(in a 1-based map, 40001 is address 0 of function 3\)/);
  const plain = modbusDecoder({ points: [{ function: 3, address: 40000, type: 'uint16' }, { function: 3, address: 50000, type: 'uint16' }] });
  decodeRecords(plain.instance, [answer(plain.instance, 0, [0x83, 0x02]), answer(plain.instance, 1, [0x83, 0x02])]);
  assert.equal(warnings(plain).length, 2);
  for (const line of warnings(plain)) assert.doesNotMatch(line, /1-based/, 'outside 40001-49999 the address is no 4xxxx register number');
});

test('an empty frame batch gives an empty sample batch', () => {
  const d = decoder();
  assert.deepEqual(decodeRecords(d.instance, []), []);
});
