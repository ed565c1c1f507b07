/**
 * A probe or scan through the daemon whose client goes away before the answer (an engineer's Ctrl-C,
 * a script's own timeout): the daemon ends the read, so its bus goes back to its own devices. Before,
 * the read ran to its end for nobody: a scan of 200 silent unit ids kept taking every other turn of
 * the bus for a minute, and a read queued behind it ran after it, also for nobody.
 *
 * Real parts: the daemon as a child process, a socat pty pair, Debian's pymodbus as the one slave
 * (unit 1, the daemon's device); the unit ids scanned are silent. What is compared is counts in one
 * window: the link's transactions against the daemon's device's requests (they are equal when no
 * guest is on the line), and the daemon's thread count against its count before the read.
 *
 * Then the daemon is stopped under a scan (SIGTERM): it exits 0, and the scan says the daemon closed
 * the connection, where before it said that what answers "does not speak the control protocol".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSocat } from '../support/pty-pair.js';
import { startRtuBus, tankPipelineYaml, type RtuBusFixture } from '../support/rtu-bus-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { controlRequest } from '../../src/host/control/control-client.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const gates = { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()), ...needs('mosquitto', !!mosquittoPath()) };

describe('a read through the daemon whose client went away', gates, () => {
  let bus: RtuBusFixture;
  let broker: TestBroker;
  let fixture: GatewayFixture;
  let daemon: GatewayProcess;
  let socket: string;

  before(async () => {
    bus = await startRtuBus({ 1: { holding: { 0: [111] } } });
    broker = await startMosquitto();
    fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-abandoned', { logLevel: 'info' }), tankPipelineYaml('plant', bus.busPath));
    daemon = startGatewayProcess(fixture.gatewayFile);
    await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
    socket = join(fixture.dir, 'data', 'control.sock');
  });
  after(async () => {
    await daemon?.stop();
    await broker?.dispose();
    await bus?.stop();
    await fixture?.dispose();
  });

  const threads = (): number => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))![1]);
  const status = async (): Promise<ControlStatus> => (await controlRequest<ControlStatus>(socket, 'status')).result;
  const counts = (s: ControlStatus) => ({ link: s.pipelines[0]!.links[0]!.transactions, tank: s.pipelines[0]!.devices[0]!.requests });
  const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
    const giveUp = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > giveUp) throw new Error(`no ${what} within ${ms} ms; last lines: ${daemon.lines.slice(-3).join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test('ends it, drops the read queued behind it, and the bus is the daemon\'s devices\' again', async () => {
    const idle = threads();
    // 200 silent unit ids at 300 ms each: a minute of every other turn on the bus, had it run out.
    const target = { link: { kind: 'modbus_rtu', path: bus.busPath, baud: 19200, parity: 'none', stopBits: 1 }, units: Array.from({ length: 200 }, (_, i) => i + 10), range: { function: 3, address: 0, count: 1 }, timeoutMs: 300, retries: 0 };
    // Both clients give up (their own timeout closes the connection) long before the read could end.
    const first = controlRequest(socket, 'read', { target }, 2500);
    await daemon.waitForLine((l) => l.includes('commissioning read on the link'), 'the first read started', 10_000);
    const second = controlRequest(socket, 'read', { target }, 1000);
    await assert.rejects(second, /did not answer read within 1000ms/);
    await assert.rejects(first, /did not answer read within 2500ms/);
    await daemon.waitForLine((l) => l.includes('commissioning read ended early: its client went away'), 'the first read ended', 10_000);
    await daemon.waitForLine((l) => l.includes('commissioning read dropped: its client went away before its turn'), 'the queued read dropped', 10_000);
    await waitFor('worker thread gone', () => threads() <= idle, 10_000);

    // A window of the daemon's own polls: every transaction on the link is now the tank's (the one
    // straddling a snapshot aside), where a guest would have taken every other one.
    const a = counts(await status());
    await waitFor('20 polls of the tank', async () => counts(await status()).tank - a.tank >= 20, 20_000);
    const b = counts(await status());
    const guest = (b.link - a.link) - (b.tank - a.tank);
    assert.ok(Math.abs(guest) <= 1, `guest transactions in the window: ${guest} (tank ${b.tank - a.tank})`);
  });

  // Last: it stops the daemon.
  test('the daemon stopping in the middle of a scan through it exits cleanly (0), and the scan says the daemon stopped', async () => {
    const scan = runWasmgate(['scan', 'modbus', '--serial', bus.busPath, '--baud', '19200', '--parity', 'none', '--unit', '10..200', '--timeout', '300ms', '--config', fixture.gatewayFile]);
    await daemon.waitForLine((l) => l.includes('commissioning read on the link') && daemon.lines.filter((x) => x.includes('commissioning read on the link')).length >= 2, 'the scan started', 20_000);
    assert.equal(await daemon.stop(), 0);
    const run = await scan;
    assert.notEqual(run.code, 0);
    // Before: "what answers on control socket ... does not speak the wasmgate control protocol".
    assert.match(run.stderr, /the daemon on control socket .* closed the connection without answering read: it is stopping or restarting, or it crashed; see its log \[WG_ERR_CONTROL_CLOSED\]/);
    assert.doesNotMatch(run.stderr, /does not speak/);
  });
});
