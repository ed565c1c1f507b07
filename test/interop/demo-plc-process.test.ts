/**
 * The demo PLC in process mode, seen from outside: mbpoll (an independent decoder of int32 and
 * float32) reads every point of DEMO_REGISTER_MAP and finds physically sensible values, and a coil
 * write from modbus-serial stops the pump as the demo's stop rule will.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import modbusSerial from 'modbus-serial';
import { DEMO_REGISTER_MAP, type DemoPointName, type DemoRegister } from '../../src/host/demo/demo-register-map.js';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ModbusTable } from '../../src/host/demo/register-image.js';
import { findMbpoll, mbpollRead } from '../support/mbpoll.js';
import { needs } from '../support/tools.js';

const ModbusRTU = modbusSerial.default; // CommonJS default, see modbus-peers.test.ts

const TABLES: Record<1 | 2 | 3 | 4, ModbusTable> = { 1: 'coils', 2: 'discrete', 3: 'holding', 4: 'input' };
const DEADLINE_MS = 20_000;

/** Reads one demo point with mbpoll and applies the map's scale; bits come back as 0/1. */
async function readPoint(port: number, name: DemoPointName): Promise<number> {
  const point: DemoRegister | undefined = DEMO_REGISTER_MAP.find((p) => p.name === name);
  assert.ok(point, name);
  const table = TABLES[point.function];
  if (point.type === 'bool') return (await mbpollRead({ port, table, address: point.address }))[0] as number;
  assert.ok(point.order === 'ABCD' || point.order === 'CDAB', 'mbpoll reads only ABCD and CDAB');
  const format = point.type === 'float32' ? 'float32' : point.type === 'int32' || point.type === 'uint32' ? 'int32' : 'uint16';
  let raw = (await mbpollRead({ port, table, address: point.address, format, wordOrder: point.order }))[0] as number;
  if (point.type === 'int16' && raw > 0x7fff) raw -= 0x10000;
  if (point.type === 'uint32' && raw < 0) raw += 0x1_0000_0000; // mbpoll prints 32-bit values signed
  return raw * point.scale;
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${DEADLINE_MS} ms`);
  }
}

describe('demo PLC in process mode', needs('mbpoll', !!findMbpoll()), () => {
  let sim: PlcSimulator;
  before(async () => {
    sim = await startPlcSimulator({ mode: 'process', seed: 3 });
  });
  after(() => sim.close());

  test('every point of the map reads as a plausible boiler-house value', async () => {
    const temp = await readPoint(sim.port, 'boiler.temp');
    assert.ok((temp > 55 && temp < 75) || temp > 80, `boiler.temp ${temp} °C`);
    const press = await readPoint(sim.port, 'boiler.press');
    assert.ok(press > 2.3 && press < 2.7, `boiler.press ${press} bar`);
    const flow = await readPoint(sim.port, 'feed.flow');
    assert.ok(flow > 3500 && flow < 3700, `feed.flow ${flow} L/h`);
    const speed = await readPoint(sim.port, 'pump.speed');
    assert.ok(speed > 1400 && speed < 1500, `pump.speed ${speed} rpm`);
    const energy = await readPoint(sim.port, 'pump.energy');
    assert.ok(energy >= 12345.678 && energy < 12400, `pump.energy ${energy} kWh`);
    assert.equal(await readPoint(sim.port, 'pump.running'), 1);
    assert.ok([0, 1].includes(await readPoint(sim.port, 'boiler.overtemp')));
  });

  test('the energy counter increases', async () => {
    const first = await readPoint(sim.port, 'pump.energy');
    await waitUntil('pump.energy increases', async () => (await readPoint(sim.port, 'pump.energy')) > first);
  });

  test('addresses past the demo map answer exception 2', async () => {
    const client = new ModbusRTU();
    await client.connectTCP('127.0.0.1', { port: sim.port });
    try {
      await assert.rejects(client.readHoldingRegisters(100, 1), (e: { modbusCode?: number }) => e.modbusCode === 2);
    } finally {
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
  });

  test('writing the pump coil false stops the pump; true starts it again', async (t) => {
    const client = new ModbusRTU();
    await client.connectTCP('127.0.0.1', { port: sim.port });
    client.setTimeout(2_000);
    t.after(() => new Promise<void>((resolve) => client.close(() => resolve())));
    await client.writeCoil(0, false);
    await waitUntil('pump.speed reaches 0', async () => (await readPoint(sim.port, 'pump.speed')) === 0);
    assert.equal(await readPoint(sim.port, 'feed.flow'), 0);
    assert.ok((await readPoint(sim.port, 'boiler.press')) < 1.5);
    await client.writeCoil(0, true);
    await waitUntil('pump.speed above 1400 rpm', async () => (await readPoint(sim.port, 'pump.speed')) > 1400);
  });
});
