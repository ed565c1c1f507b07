/**
 * Writes, confirmed by the device and read back through an independent client: for every type and byte
 * order the gateway writes a value (function 16 for multi-register types, 6 for one register, 5 for a
 * coil, 22 for a bit of a register), pymodbus (Debian's, an independent server) stores it, and
 * modbus-serial's client reads the registers back. The expected words are pymodbus's own encoding of
 * the value (BinaryPayloadBuilder), not ours. Also `wasmgate write` from the command line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import modbusSerial from 'modbus-serial';
import { pymodbusEncodeMany, startPymodbusServer, type PymodbusServer, type PymodbusType } from '../support/pymodbus.js';
import { startCapturedPipeline, type CapturedPipeline } from '../support/captured-pipeline.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { findPymodbusPython, needs } from '../support/tools.js';

const ModbusRTU = modbusSerial.default;
const BIN = fileURLToPath(new URL('../../../bin/wasmgate.js', import.meta.url));
const ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
const CASES: Array<{ type: PymodbusType & string; value: number; width: number }> = [
  { type: 'int16', value: -1234, width: 1 },
  { type: 'uint16', value: 65000, width: 1 },
  { type: 'int32', value: -2_000_000_000, width: 2 },
  { type: 'uint32', value: 4_000_000_000, width: 2 },
  { type: 'float32', value: 21.5, width: 2 },
  { type: 'int64', value: -9_007_199_254_740_991, width: 4 },
  { type: 'uint64', value: 9_007_199_254_740_991, width: 4 },
  { type: 'float64', value: -0.1, width: 4 },
];

interface Slot { name: string; type: string; order: string; value: number; address: number; width: number }
const slots: Slot[] = [];
let next = 0;
for (const c of CASES) {
  for (const order of c.width === 1 ? (['ABCD', 'BADC'] as const) : ORDERS) {
    slots.push({ name: `${c.type}.${order}`, type: c.type, order, value: c.value, address: next, width: c.width });
    next += c.width;
  }
}

function pipelineYaml(port: number): string {
  const points = slots.map((s) => `          - { name: ${s.name}, function: 3, address: ${s.address}, type: ${s.type}, order: ${s.order}, access: read_write }`);
  return `pipeline: { name: writes }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${port}
        interval: 1h
        points:
${points.join('\n')}
          - { name: scaled, function: 3, address: 200, type: int16, scale: 0.1, offset: -40, access: write }
          - { name: pump, function: 1, address: 7, type: bool, access: read_write }
          - { name: alarm.bit3, function: 3, address: 210, type: bool, bit: 3, access: read_write }
          - { name: locked, function: 3, address: 220, type: uint16 }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}

async function readBack(port: number, fn: 'holding' | 'coils', address: number, count: number): Promise<number[]> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  try {
    return fn === 'holding' ? (await client.readHoldingRegisters(address, count)).data : (await client.readCoils(address, count)).data.slice(0, count).map(Number);
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
}

describe('writes against pymodbus, read back by modbus-serial', needs('python3-pymodbus', !!findPymodbusPython()), () => {
  let server: PymodbusServer;
  let run: CapturedPipeline;
  before(async () => {
    server = await startPymodbusServer({ holding: { 0: new Array(230).fill(0), 210: [0b1111_0000_0000_0001] }, coils: { 0: new Array(16).fill(false) } });
    run = await startCapturedPipeline(pipelineYaml(server.port));
  });
  after(async () => {
    await run?.stop();
    await server?.stop();
  });

  test('every type and order: the registers hold what pymodbus encodes for the value', async () => {
    const expected = await pymodbusEncodeMany(slots.map((s) => ({ type: s.type as PymodbusType, value: s.value, order: s.order as (typeof ORDERS)[number] })));
    for (const [i, s] of slots.entries()) {
      await run.pipeline.write('plc', s.name, s.value);
      assert.deepEqual(await readBack(server.port, 'holding', s.address, s.width), expected[i], s.name);
    }
  });

  test('scale and offset are inverted: 25.0 with scale 0.1 offset -40 writes raw 650', async () => {
    await run.pipeline.write('plc', 'scaled', 25);
    assert.deepEqual(await readBack(server.port, 'holding', 200, 1), [650]); // (25 - -40) / 0.1
  });

  test('a coil, and one bit of a register without touching its other bits', async () => {
    await run.pipeline.write('plc', 'pump', 1);
    assert.deepEqual(await readBack(server.port, 'coils', 7, 1), [1]);
    await run.pipeline.write('plc', 'alarm.bit3', 1);
    assert.deepEqual(await readBack(server.port, 'holding', 210, 1), [0b1111_0000_0000_1001]);
    await run.pipeline.write('plc', 'alarm.bit3', 0);
    assert.deepEqual(await readBack(server.port, 'holding', 210, 1), [0b1111_0000_0000_0001]);
  });

  test('refused before the bus: a read-only point, a value out of the type, a device exception named', async () => {
    await assert.rejects(run.pipeline.write('plc', 'locked', 1), (e: Error & { code?: string }) => e.code === 'WG_ERR_WRITE_REFUSED' && /read-only/.test(e.message));
    await assert.rejects(run.pipeline.write('plc', 'uint16.ABCD', 70000), (e: Error & { code?: string }) => e.code === 'WG_ERR_WRITE_REFUSED');
    assert.deepEqual(await readBack(server.port, 'holding', 220, 1), [0]);
  });

  test('wasmgate write confirms, and refuses a read-only point with exit code 2', async () => {
    const fixture = await writeGatewayFixture(gatewayYaml('mqtt://127.0.0.1:1'), pipelineYaml(server.port));
    const cli = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'write', '-c', fixture.gatewayFile, ...args]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => resolve({ code, out, err }));
    });
    try {
      const ok = await cli(['plc', 'uint16.ABCD', '4242', '--json']);
      assert.equal(ok.code, 0, ok.err);
      assert.equal((JSON.parse(ok.out) as { ok: boolean }).ok, true);
      assert.deepEqual(await readBack(server.port, 'holding', slots.find((s) => s.name === 'uint16.ABCD')!.address, 1), [4242]);
      const ro = await cli(['plc', 'locked', '1']);
      assert.equal(ro.code, 2);
      assert.match(ro.err, /read-only/);
    } finally {
      await fixture.dispose();
    }
  });
});

describe('a write to a device whose link is down', () => {
  test('is refused as not sent, nothing written, with why the link is down', async () => {
    // A port nobody listens on: bound once, then closed, so a connect is refused.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await startCapturedPipeline(pipelineYaml(port));
    try {
      await assert.rejects(run.pipeline.write('plc', 'uint16.ABCD', 1), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'WG_ERR_WRITE_UNCONFIRMED');
        // Either the poller's first connect failed before the write asked for the link (backing off),
        // or the write's own connect is the first to fail: both say not sent, and why.
        assert.match(e.message, /did not confirm the write of point uint16\.ABCD: not sent, nothing was written: (link plc is down and backing off \(cannot connect to plc: .*\)|.*cannot connect to plc: .*)$/, e.message);
        return true;
      });
    } finally {
      await run.stop();
    }
  });
});
