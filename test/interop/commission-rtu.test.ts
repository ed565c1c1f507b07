/**
 * The commissioning commands on RTU, against Debian's pymodbus: `scan modbus` over RTU-over-TCP finds
 * exactly the unit ids pymodbus serves (one of them answering with an exception, which still means a
 * device is there), and `probe --serial` reads registers through a socat pty pair. Expected unit ids
 * and values are the ones the peers were given here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusRtuOverTcp, startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { runWasmgate as wasmgate } from '../support/wasmgate-cli.js';


describe('probe and scan on RTU', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  let server: PymodbusRtuServer;
  let pty: PtyPair;
  let bus: PymodbusRtuServer;
  before(async () => {
    server = await startPymodbusRtuOverTcp({
      units: { 3: { holding: { 0: [111] } }, 7: { holding: { 0: [777] } }, 9: { holding: { 0: [9] }, fault: { kind: 'exception', code: 2 } } },
    });
    pty = await startPtyPair();
    bus = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate: 19200, parity: 'none', units: { 4: { holding: { 0: [0x4049, 0x0fdb] } } } });
  });
  after(async () => {
    await bus?.stop();
    await pty?.stop();
    await server?.stop();
  });

  test('scan modbus over RTU-over-TCP lists exactly the units that answer, an exception included', async () => {
    const r = await wasmgate(['scan', 'modbus', '--rtu-over-tcp', `127.0.0.1:${server.port}`, '--unit', '1..10', '--timeout', '150ms', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { asked: number; found: Array<{ unit: number; answered: boolean; values: Array<number | null> }> };
    assert.equal(doc.asked, 10);
    assert.deepEqual(doc.found.map((f) => [f.unit, f.answered, f.values[0]]), [[3, true, 111], [7, true, 777], [9, false, null]]);
  });

  test('probe --serial reads a float32 through a pty bus', async () => {
    const r = await wasmgate(['probe', '--serial', pty.busPath, '--baud', '19200', '--parity', 'none', '--unit', '4', '--count', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { registers: Array<{ views: Record<string, number | null> }> };
    // 0x40490FDB is the float32 nearest to pi.
    assert.equal(doc.registers[0]!.views['float32.ABCD'], Math.fround(Math.PI));
  });
});
