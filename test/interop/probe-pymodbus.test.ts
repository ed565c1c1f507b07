/**
 * `wasmgate probe` and `wasmgate scan modbus` against Debian's pymodbus, an independent Modbus TCP
 * server. The registers hold values that pymodbus's own BinaryPayloadBuilder encoded, each in a known
 * type and byte order; probe must show each value in exactly that column. Expected values are the
 * ones given to pymodbus, not what our decoder makes of them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pymodbusEncodeMany, startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { runWasmgate as wasmgate } from '../support/wasmgate-cli.js';


interface ProbeJson {
  answered: boolean;
  registers: Array<{ address: number; word: number | null; ascii: string | null; quality: string; views: Record<string, number | null> }>;
}

describe('probe and scan against pymodbus', needs('python3-pymodbus', !!findPymodbusPython()), () => {
  let server: PymodbusServer;
  // Register 0: float32 21.5 in CDAB; 2: int32 -123456 in BADC; 4: float64 -0.1 in DCBA;
  // 8: uint16 65000; 9: the text "OK" (0x4F 0x4B).
  const layout = [
    { type: 'float32' as const, value: 21.5, order: 'CDAB' as const, at: 0 },
    { type: 'int32' as const, value: -123456, order: 'BADC' as const, at: 2 },
    { type: 'float64' as const, value: -0.1, order: 'DCBA' as const, at: 4 },
    { type: 'uint16' as const, value: 65000, order: 'ABCD' as const, at: 8 },
  ];

  before(async () => {
    const words = await pymodbusEncodeMany(layout.map(({ type, value, order }) => ({ type, value, order })));
    const holding: number[] = new Array(10).fill(0);
    layout.forEach((l, i) => words[i]!.forEach((w, j) => (holding[l.at + j] = w)));
    holding[9] = 0x4f4b;
    server = await startPymodbusServer({ holding: { 0: holding }, size: { holding: 10 } });
  });
  after(async () => server?.stop());

  test('probe --json shows each value under its own type and order', async () => {
    const r = await wasmgate(['probe', '--tcp', `127.0.0.1:${server.port}`, '--address', '0', '--count', '10', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ProbeJson;
    assert.equal(doc.answered, true);
    const at = (address: number) => doc.registers.find((x) => x.address === address)!;
    assert.equal(at(0).views['float32.CDAB'], 21.5);
    assert.equal(at(2).views['int32.BADC'], -123456);
    assert.equal(at(4).views['float64.DCBA'], -0.1);
    assert.equal(at(8).views['uint16.ABCD'], 65000);
    assert.equal(at(8).views['int16.ABCD'], 65000 - 65536);
    assert.equal(at(9).ascii, 'OK');
    // The wrong order of the same registers is a different number: the columns tell them apart.
    assert.notEqual(at(0).views['float32.ABCD'], 21.5);
  });

  test('probe prints a table a person reads, one row per register', async () => {
    const r = await wasmgate(['probe', '--tcp', `127.0.0.1:${server.port}`, '--count', '10']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 11);
    assert.match(lines[0]!, /addr\s+hex\s+ascii\s+int16\.ABCD/);
    const header = lines[0]!.trim().split(/\s+/);
    const row0 = lines[1]!.trim().split(/\s+/);
    assert.equal(row0[header.indexOf('float32.CDAB')], '21.5');
  });

  test('a read past the mapped registers is reported, not shown as values', async () => {
    const r = await wasmgate(['probe', '--tcp', `127.0.0.1:${server.port}`, '--address', '8', '--count', '4', '--json']);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as ProbeJson;
    assert.equal(doc.answered, false);
    assert.ok(doc.registers.every((x) => x.word === null && x.quality === 'bad'), r.stdout);
    // The decoder names the exception (2, illegal data address) on stderr.
    assert.match(r.stderr, /illegal data address/i);
  });

  test('wrong options are usage errors that name the option', async () => {
    const both = await wasmgate(['probe', '--tcp', '127.0.0.1', '--serial', '/dev/null']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /name the device one way/);
    const count = await wasmgate(['probe', '--tcp', '127.0.0.1', '--count', '0']);
    assert.equal(count.code, 2);
    assert.match(count.stderr, /--count 0/);
  });
});
