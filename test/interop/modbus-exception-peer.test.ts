/**
 * A real Modbus peer answering with an exception (issue 6, "Errors where a user is stuck"). What
 * broke: an exception was logged as "device plc request 1: exception code 2", without the unit id,
 * function, addresses, points or what code 2 means, and again with every batch for as long as the
 * device kept answering so. pymodbus (an independent implementation) serves 10 holding registers
 * and answers exception 2 (illegal data address) for a read past them; the decoder's own request
 * frames go to it over TCP and its answers come back through the decoder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { FRAME_OK, modbusDecoder, decodeRecords, warnings, type FrameRecord, type ModbusDecoder } from '../support/modbus-plugin.js';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';

const POLLS = 20;
const GOOD = 0;
const BAD = 2;

/** Sends each request of the plan once and returns the records of the answers, in plan order. */
async function poll(socket: Socket, d: ModbusDecoder, seq: number): Promise<FrameRecord[]> {
  const records: FrameRecord[] = [];
  const devices = d.instance.requests();
  for (let r = 0; r < devices.length; r++) {
    const request = d.instance.request(r, seq);
    socket.write(request);
    let received = Buffer.alloc(0);
    let length = 0;
    while (length === 0) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      received = Buffer.concat([received, chunk]);
      length = d.instance.frameLength(received);
    }
    assert.ok(length > 0, `framing of the answer to request ${r}: ${length}`);
    records.push({ ctx: { device: devices[r]!, request: r, status: FRAME_OK, seq, ts: 1_700_000_000_000 + seq }, request, response: received.subarray(0, length) });
  }
  return records;
}

describe('an exception from pymodbus', { ...needs('python3-pymodbus', !!findPymodbusPython()) }, () => {
  let server: PymodbusServer;
  let socket: Socket;
  before(async () => {
    server = await startPymodbusServer({ holding: { 0: [1234] }, size: { holding: 10 } });
    socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
  });
  after(async () => {
    socket.destroy();
    await server.stop();
  });

  test('is one warning naming device, unit, function, addresses, points and meaning, then counted', async () => {
    const d = modbusDecoder({
      devices: [{ name: 'boiler-plc', unit_id: 1 }],
      points: [
        { name: 'boiler.temp', function: 3, address: 0, type: 'uint16' },
        { name: 'boiler.setpoint', function: 3, address: 20, type: 'uint32' },
      ],
    });
    for (let seq = 1; seq <= POLLS; seq++) {
      const samples = decodeRecords(d.instance, await poll(socket, d, seq));
      // The mapped register keeps being read while the unmapped one fails.
      assert.deepEqual(samples.map((s) => [s.point, s.value, s.quality]), [[0, 1234, GOOD], [1, NaN, BAD]], `poll ${seq}`);
    }
    assert.deepEqual(warnings(d), [
      'device boiler-plc unit 1, function 3 (read holding registers) of addresses 20-21: exception 2 (illegal data address): ' +
        "check the addresses against the device's register map; points boiler.setpoint: NaN, bad; repeats are counted, not logged",
    ]);
    assert.equal(d.instance.stats()?.exception_responses, POLLS);
  });
});
