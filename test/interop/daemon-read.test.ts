/**
 * A probe or scan read on a running gateway's bus (the control socket's `read`, daemon-read.ts): it
 * goes over the gateway's own arbiter for that port, between the gateway's polls. Real parts: a socat
 * pty pair, Debian's pymodbus as three slaves, mosquitto for the gateway's uplink. The values are the
 * ones written into pymodbus's image here.
 *
 * What "without colliding" means on RS-485, checked here: the port is never opened a second time,
 * the gateway's own device loses no poll to a garbled or missed answer while the scan asks absent unit
 * ids, and the scan takes at most every other turn of the line, so the gateway's device is answered
 * between any two of the scan's requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { DaemonReads } from '../../src/host/commission/daemon-read.js';
import { isWgError } from '../../src/host/errors.js';
import { findSocat } from '../support/pty-pair.js';
import { COMMISSIONING_SLAVES, startRtuBus, tankPipelineYaml, type RtuBusFixture } from '../support/rtu-bus-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml } from '../support/gateway-fixture.js';
import { waitFor } from '../support/wait.js';

describe('reads through a running gateway\'s bus', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()), ...needs('mosquitto', !!mosquittoPath()) }, () => {
  let bus: RtuBusFixture;
  let broker: TestBroker;
  let dir: string;
  let gateway: Gateway;
  let reads: DaemonReads;

  before(async () => {
    bus = await startRtuBus(COMMISSIONING_SLAVES);
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'wasmgate-daemon-read-'));
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(broker.url, 'gw-read'));
    await writeFile(join(dir, 'pipeline.yaml'), tankPipelineYaml('tanks', bus.busPath));
    const loaded = await loadGatewayConfig(join(dir, 'gateway.yaml'));
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const logger = pino({ level: 'silent' });
    gateway = await Gateway.start(loaded.config, { logger, statusIntervalMs: 0 });
    reads = new DaemonReads(gateway.links, logger);
  });
  after(async () => {
    await gateway?.stop();
    await broker?.dispose();
    await bus?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const tank = () => gateway.status().pipelines[0]!.devices[0]!;
  const link = () => gateway.status().pipelines[0]!.links[0]!;
  const target = (units: number[], count: number) => ({
    // The line settings a CLI sends are its defaults; the gateway's own (19200 8N1) drive the line.
    link: { kind: 'modbus_rtu', path: bus.busPath, baud: 9600, parity: 'even', stopBits: 1 },
    units, range: { function: 3, address: 0, count }, timeoutMs: 200, retries: 0,
  });

  test('a probe reads the registers of another slave on the bus, over the gateway\'s open port', async () => {
    await waitFor(() => tank().responses > 0, 10_000, () => JSON.stringify(tank()));
    const before = link().opens;
    assert.equal(before, 1);
    const got = await reads.read({ target: target([2], 3) });
    assert.equal(got.link, 'rs485');
    assert.deepEqual(got.readings.map((r) => [r.unit, r.answered, r.values.map((v) => v.value)]), [[2, true, [0x41a4, 0x0000, 7]]]);
    assert.equal(link().opens, before, 'the port was not opened again');
    assert.equal(link().connected, true, 'the gateway\'s link stays open after the visitor left');
  });

  test('a scan of absent unit ids costs the gateway\'s device no poll, and alternates with it', async () => {
    await waitFor(() => tank().responses > 0, 10_000, () => JSON.stringify(tank()));
    const start = { ...tank() };
    // The link counts every transaction, the tank its own requests: the difference is the scan's.
    const guestBase = link().transactions - start.requests;
    const samples: { guest: number; tankAnswers: number }[] = [];
    const units = [3, 4, 6, 7, 8, 9, 10, 11, 12, 5];
    const reading = reads.read({ target: target(units, 1) });
    let done = false;
    void reading.finally(() => (done = true));
    while (!done) {
      const now = tank();
      samples.push({ guest: link().transactions - now.requests - guestBase, tankAnswers: now.responses });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const got = await reading;
    const end = tank();
    assert.deepEqual(got.readings.filter((r) => r.present).map((r) => [r.unit, r.values[0]!.value]), [[5, 55]]);
    assert.equal(end.timeouts - start.timeouts, 0, JSON.stringify(end));
    assert.equal(end.framingErrors - start.framingErrors, 0, JSON.stringify(end));
    // While the scan's ten requests went out (nine absent unit ids, 200 ms timeout each), the tank,
    // waiting again within its 50 ms interval, is served between any two of them. Without the guest's
    // turns it would wait behind all ten, and be answered about once in that time.
    const first = samples.find((x) => x.guest >= 1);
    const last = samples.find((x) => x.guest >= units.length);
    assert.ok(first && last, `samples ${JSON.stringify(samples.slice(-3))}`);
    const during = last.tankAnswers - first.tankAnswers;
    assert.ok(during >= units.length - 2, `the tank was answered ${during} times while the scan sent ${units.length - 1} more requests`);
  });

  test('a read of a line the gateway does not hold is refused with WG_ERR_CONTROL_NO_LINK', async () => {
    await assert.rejects(reads.read({ target: { ...target([1], 1), link: { kind: 'modbus_tcp', host: '127.0.0.1', port: 1502 } } }), (err: unknown) => isWgError(err) && err.code === 'WG_ERR_CONTROL_NO_LINK');
  });

  test('a malformed target from a client is refused by field, before anything is built', async () => {
    const refused = async (t: unknown, field: RegExp) => assert.rejects(reads.read({ target: t }), (err: unknown) => isWgError(err) && err.code === 'WG_ERR_CLI_USAGE' && field.test(err.message));
    await refused({ ...target([1], 1), units: Array.from({ length: 100_000 }, (_, i) => i) }, /units must be a list of 1 to 256/);
    await refused({ ...target([1], 1), range: { function: 3, address: 65535, count: 2 } }, /range\.count/);
    await refused({ ...target([1], 1), link: { kind: 'modbus_rtu', path: 'ttyUSB0', baud: 9600, parity: 'even', stopBits: 1 } }, /link\.path/);
    await refused(null, /link\.kind/);
    await refused({ ...target(['1' as unknown as number], 1) }, /units\[0\]/);
  });
});
