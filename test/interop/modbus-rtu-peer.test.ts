/**
 * The modbus plugin's RTU frames against a real peer: Debian's pymodbus server speaking Modbus RTU over
 * TCP (its RTU framer, as a serial device server frames). The plugin's read requests are answered
 * and decoded, the answers are delimited by the plugin's own framing rule for "rtu", and a write is
 * confirmed from the server's echo and read back by the plugin. The expected values are the
 * registers the test put into the server, written out by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { parseFramingRules, ruleFor, ruleFrameLength, type FramingRule } from '../../src/host/engine/framing-rule.js';
import { decodeRecords, modbusDecoder, type PointSetting } from '../support/modbus-plugin.js';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';

const gate = needs('python3-pymodbus', !!findPymodbusPython());
const GOOD = 0;
const BAD = 2;
let server: PymodbusServer | undefined;
let socket: Socket | undefined;

before(async () => {
  if (gate.skip) return;
  server = await startPymodbusServer({
    framing: 'rtu',
    // 1.0f = 0x3F800000 in CDAB; -2 as int16; "AB" as text; coils 1, 0, 1.
    holding: { 0: [0x0000, 0x3f80, 0xfffe, 0x4142] },
    coils: { 10: [true, false, true] },
    size: { holding: 100 },
  });
  socket = connect(server.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket!.once('connect', resolve).once('error', reject));
});

after(async () => {
  socket?.destroy();
  await server?.stop();
});

/** Sends one frame; resolves with the response as the rule delimits it from the bytes that arrive. */
function exchange(frame: Uint8Array, rule: FramingRule): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let got = new Uint8Array(0);
    const onData = (chunk: Buffer) => {
      got = new Uint8Array([...got, ...chunk]);
      const length = ruleFrameLength(rule, got);
      if (length < 0) reject(new Error(`not a frame: ${Buffer.from(got).toString('hex')}`));
      if (length > 0 && got.length >= length) {
        socket!.off('data', onData);
        resolve(got.subarray(0, length));
      }
    };
    socket!.on('data', onData).once('error', reject);
    socket!.write(frame);
  });
}

test('RTU reads answered by pymodbus decode, delimited by the plugin\'s rule', gate, async () => {
  const points: PointSetting[] = [
    { function: 3, address: 0, type: 'float32', order: 'CDAB' },
    { function: 3, address: 2, type: 'int16' },
    { function: 3, address: 3, type: 'string', length: 1 },
    { function: 1, address: 10, type: 'bool' }, { function: 1, address: 11, type: 'bool' }, { function: 1, address: 12, type: 'bool' },
    { function: 3, address: 200, type: 'uint16' }, // past the 100 mapped registers: exception 2
  ];
  const { instance } = modbusDecoder({ devices: [{ name: 'rtu', unit_id: 1, framing: 'rtu' }], points });
  const rule = ruleFor(parseFramingRules(instance.framing()!, {}), 'rtu')!;
  const records = [];
  for (let r = 0; r < instance.requests().length; r++) {
    const request = instance.request(r, 0);
    const response = await exchange(request, rule);
    records.push({ ctx: { device: 0, request: r, status: 0, seq: 0, ts: 1 }, request, response });
  }
  const samples = decodeRecords(instance, records);
  const byPoint = new Map(samples.map((s) => [s.point, s]));
  assert.equal(byPoint.get(0)!.value, 1);
  assert.equal(byPoint.get(1)!.value, -2);
  assert.equal(byPoint.get(2)!.value, 'AB');
  assert.deepEqual([3, 4, 5].map((p) => byPoint.get(p)!.value), [1, 0, 1]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((p) => byPoint.get(p)!.quality), [GOOD, GOOD, GOOD, GOOD, GOOD, GOOD]);
  assert.equal(byPoint.get(6)!.quality, BAD);
});

test('an RTU write is confirmed from pymodbus\'s echo and reads back', gate, async () => {
  const points: PointSetting[] = [{ function: 3, address: 50, type: 'int32', order: 'DCBA', access: 'read_write', scale: 0.5 }];
  const { instance } = modbusDecoder({ devices: [{ name: 'rtu', unit_id: 1, framing: 'rtu' }], points });
  const rule = ruleFor(parseFramingRules(instance.framing()!, {}), 'rtu')!;
  const write = instance.writeFrame(0, 0, -1000.5, 0);
  assert.deepEqual(instance.checkWrite(0, write, await exchange(write, rule)), { ok: true });
  const request = instance.request(0, 0);
  const [sample] = decodeRecords(instance, [{ ctx: { device: 0, request: 0, status: 0, seq: 0, ts: 1 }, request, response: await exchange(request, rule) }]);
  assert.equal(sample!.value, -1000.5);
  assert.equal(sample!.quality, GOOD);
});
