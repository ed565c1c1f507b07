/**
 * probe, scan and write against a running daemon (`wasmgate run` in a child process): they go
 * through its control socket and its arbiter, not around it. Real parts: a socat pty pair with
 * Debian's pymodbus as three RTU slaves, pymodbus's TCP server as a Modbus TCP device, mosquitto for
 * the daemon's uplink, mbpoll as an independent client reading back the write. Values are the ones
 * written into pymodbus's images here.
 *
 * What the daemon route is for, shown first: a stand-alone probe of the daemon's port fails, because
 * the daemon holds the port (serialport locks it); through the daemon the same probe reads, and the
 * daemon's own device keeps answering without a timeout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findSocat } from '../support/pty-pair.js';
import { COMMISSIONING_SLAVES, startRtuBus, tankPipelineYaml, type RtuBusFixture } from '../support/rtu-bus-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { findMbpoll, mbpollRead } from '../support/mbpoll.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const gates = { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()), ...needs('mosquitto', !!mosquittoPath()), ...needs('mbpoll', !!findMbpoll()) };

describe('commissioning through a running daemon', gates, () => {
  let bus: RtuBusFixture;
  let plc: PymodbusServer;
  let broker: TestBroker;
  let fixture: GatewayFixture;
  let daemon: GatewayProcess;

  before(async () => {
    bus = await startRtuBus(COMMISSIONING_SLAVES);
    plc = await startPymodbusServer({ holding: { 0: [0, 0, 4] } });
    broker = await startMosquitto();
    fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-commission', { logLevel: 'info' }), tankPipelineYaml('plant', bus.busPath, `  modbus_tcp:
    devices:
      - name: chiller
        host: 127.0.0.1
        port: ${plc.port}
        interval: 200ms
        points:
          - { name: setpoint, function: 3, address: 0, type: float32, access: read_write }
          - { name: mode, function: 3, address: 2, type: uint16 }
`));
    daemon = startGatewayProcess(fixture.gatewayFile);
    await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  });
  after(async () => {
    await daemon?.stop();
    await broker?.dispose();
    await plc?.stop();
    await bus?.stop();
    await fixture?.dispose();
  });

  const status = async (): Promise<ControlStatus> => {
    const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as ControlStatus;
  };
  const tank = (s: ControlStatus) => s.pipelines[0]!.devices.find((d) => d.device === 'tank')!;

  test('stand-alone, the daemon\'s port is locked; through the daemon the probe reads it', async () => {
    const alone = await runWasmgate(['probe', '--serial', bus.busPath, '--baud', '19200', '--parity', 'none', '--unit', '2', '--count', '3', '--json', '--standalone']);
    assert.equal(alone.code, 1, alone.stdout);
    assert.match(alone.stderr, /WG_ERR_HAL_CONNECT/);

    const before = tank(await status());
    const run = await runWasmgate(['probe', '--serial', bus.busPath, '--unit', '2', '--count', '3', '--json', '--config', fixture.gatewayFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /read through the running daemon .* on its link rs485/);
    const doc = JSON.parse(run.stdout) as { unit: number; answered: boolean; registers: Array<{ address: number; word: number; views: Record<string, number | null> }> };
    assert.equal(doc.answered, true);
    assert.deepEqual(doc.registers.map((r) => r.word), [0x41a4, 0x0000, 7]);
    assert.equal(doc.registers[0]!.views['float32.ABCD'], 20.5);
    const after = tank(await status());
    assert.ok(after.responses > before.responses, 'the daemon kept polling its device');
    assert.equal(after.timeouts, before.timeouts, 'and lost no poll to the probe');
    assert.equal(after.framingErrors, before.framingErrors);
  });

  test('a scan through the daemon finds every slave on its bus, its own device included', async () => {
    const run = await runWasmgate(['scan', 'modbus', '--serial', bus.busPath, '--unit', '1..6', '--json', '--config', fixture.gatewayFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /read through the running daemon/);
    const doc = JSON.parse(run.stdout) as { asked: number; found: Array<{ unit: number; values: number[] }> };
    assert.equal(doc.asked, 6);
    assert.deepEqual(doc.found.map((f) => [f.unit, f.values[0]]), [[1, 111], [2, 0x41a4], [5, 55]]);
    const s = await status();
    assert.equal(s.pipelines[0]!.links.find((l) => l.link === 'rs485')!.opens, 1, 'the daemon\'s port was opened once, by the daemon');
  });

  test('a probe of a line the daemon does not use reads stand-alone, and says so', async () => {
    const other = await startPymodbusServer({ holding: { 0: [9] } });
    try {
      const run = await runWasmgate(['probe', '--tcp', `127.0.0.1:${other.port}`, '--count', '1', '--json', '--config', fixture.gatewayFile]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /has no modbus_tcp link to 127\.0\.0\.1:\d+ .*working stand-alone/);
      assert.deepEqual((JSON.parse(run.stdout) as { registers: Array<{ word: number }> }).registers.map((r) => r.word), [9]);
    } finally {
      await other.stop();
    }
  });

  test('a write goes through the daemon, and an independent client reads it back', async () => {
    const run = await runWasmgate(['write', 'chiller', 'setpoint', '21.5', '--config', fixture.gatewayFile, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /written through the running daemon/);
    assert.equal((JSON.parse(run.stdout) as { ok: boolean }).ok, true);
    // float32 21.5 = 0x41AC0000 (sign 0, exponent 131, mantissa 1.34375), ABCD: high word first.
    assert.deepEqual(await mbpollRead({ port: plc.port, table: 'holding', address: 0, count: 2 }), [0x41ac, 0x0000]);
  });

  test('the daemon refuses a write to a read-only point, whatever the client asks', async () => {
    // A script talking to the socket directly, past the CLI's own check.
    const { controlRequest } = await import('../../src/host/control/control-client.js');
    const socket = join(fixture.dir, 'data', 'control.sock');
    await assert.rejects(controlRequest(socket, 'write', { pipeline: 'plant', device: 'chiller', point: 'mode', value: 3 }), /read-only/);
    assert.deepEqual(await mbpollRead({ port: plc.port, table: 'holding', address: 2, count: 1 }), [4], 'unchanged');
  });

  test('an explicitly named socket with no daemon is an error, not a silent stand-alone read', async () => {
    const missing = join(fixture.dir, 'nobody.sock');
    const run = await runWasmgate(['probe', '--tcp', `127.0.0.1:${plc.port}`, '--count', '1', '--socket', missing]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /WG_ERR_CONTROL_UNREACHABLE/);
  });
});
