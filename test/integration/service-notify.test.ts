/**
 * The daemon under Type=notify, as systemd runs it (docs/service.md): the real daemon in a child
 * process, a real PLC (modbus-serial's server), a real broker, and for systemd's notification socket a
 * real AF_UNIX datagram socket bound by python3 (test/support/notify_listener.py), a stand-in that
 * receives what systemd would. systemd is not PID 1 on the machines these tests run on, so systemd
 * itself is not in the loop: what is tested is what the daemon sends, and when.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { gatewayYaml } from '../support/gateway-fixture.js';
import { pipelineYaml, placeWatPlugin, writeHostileFiles } from '../support/hostile-gateway.js';
import { notifyPython, startNotifyListener } from '../support/notify-listener.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const python = needs('python3', notifyPython() !== undefined);

/** The variables systemd sets for a unit, cleared so that a test run under systemd does not leak its own. */
const NO_SYSTEMD = { NOTIFY_SOCKET: '', WATCHDOG_USEC: '', WATCHDOG_PID: '', STATE_DIRECTORY: '', RUNTIME_DIRECTORY: '' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test('READY=1 once the gateway started, WATCHDOG=1 every WATCHDOG_USEC/2 while healthy, STOPPING=1 at SIGTERM; no data_dir: state in $STATE_DIRECTORY', python, async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [4242] } } });
  t.after(() => plc.close());
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-notify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const etc = join(dir, 'etc');
  const state = join(dir, 'var-lib-wasmgate');
  await mkdir(etc);
  await mkdir(state);
  // The gateway file as the package ships it: no data_dir.
  const gateway = gatewayYaml(broker.url, 'gw-notify', { logLevel: 'info' }).replace('  data_dir: ./data\n', '');
  assert.doesNotMatch(gateway, /data_dir/);
  await writeFile(join(etc, 'gateway.yaml'), gateway);
  await writeFile(join(etc, 'pipeline.yaml'), pipelineYaml('plant', plc.port, '  - plugin: modbus\n  - plugin: json'));
  const listener = await startNotifyListener(dir);
  t.after(() => listener.close());
  const messages = await subscribe(broker.url, 't/plant/#', { qos: 0 });
  t.after(() => messages.close());

  const WATCHDOG_USEC = 400_000;
  const daemon = startGatewayProcess(join(etc, 'gateway.yaml'), { ...NO_SYSTEMD, NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: String(WATCHDOG_USEC), STATE_DIRECTORY: state });
  t.after(() => daemon.stop());
  const [ready] = await listener.waitFor('READY=1', 1, 30_000);
  const startedLine = await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 5_000);
  const startedAt = Date.parse((JSON.parse(startedLine) as { time: string }).time);
  assert.ok(ready!.t >= startedAt, `READY=1 arrived at ${ready!.t}, before the gateway logged it had started (${startedAt})`);
  assert.equal(listener.received[0], ready, 'READY=1 is the first notification');
  assert.ok(ready!.fields.some((f) => /^STATUS=running, 1 pipeline\(s\)$/.test(f)), JSON.stringify(ready!.fields));

  // The interval the daemon says it uses, and the one it keeps (median gap, a ratio within this run).
  const announced = await daemon.waitForLine((l) => l.includes('"service watchdog: pinging'), 'the watchdog line', 5_000);
  assert.equal((JSON.parse(announced) as { intervalMs: number }).intervalMs, WATCHDOG_USEC / 2000);
  const pings = await listener.waitFor('WATCHDOG=1', 6, 20_000);
  const gaps = pings.slice(1).map((p, i) => p.t - pings[i]!.t);
  const ratio = median(gaps) / (WATCHDOG_USEC / 2000);
  assert.ok(ratio > 0.5 && ratio < 1.5, `median gap ${median(gaps)} ms for an interval of ${WATCHDOG_USEC / 2000} ms (gaps ${gaps.join(', ')})`);
  assert.ok(pings[0]!.t > ready!.t);
  await waitFor(() => messages.messages.length > 0, 15_000, () => 'no reading at the broker');

  // The outbox went to the state directory, not next to the gateway file.
  assert.ok(existsSync(join(state, 'outbox.db')), 'outbox.db in $STATE_DIRECTORY');
  assert.ok(!existsSync(join(etc, 'data')), 'nothing written next to the gateway file');

  const pingsBeforeStop = listener.with('WATCHDOG=1').length;
  assert.equal(await daemon.stop(), 0);
  const [stopping] = await listener.waitFor('STOPPING=1', 1, 5_000);
  const after = listener.received.slice(listener.received.indexOf(stopping!) + 1);
  assert.deepEqual(after.filter((n) => n.fields.includes('WATCHDOG=1')), [], 'no ping after STOPPING=1');
  assert.ok(listener.with('WATCHDOG=1').length >= pingsBeforeStop);
});

test('without NOTIFY_SOCKET nothing is sent and no watchdog runs', python, async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1] } } });
  t.after(() => plc.close());
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-notify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(broker.url, 'gw-plain', { logLevel: 'info' }));
  await writeFile(join(dir, 'pipeline.yaml'), pipelineYaml('plant', plc.port, '  - plugin: modbus\n  - plugin: json'));
  const listener = await startNotifyListener(dir);
  t.after(() => listener.close());
  // WATCHDOG_USEC alone (no socket to send to) must not start pings either.
  const daemon = startGatewayProcess(join(dir, 'gateway.yaml'), { ...NO_SYSTEMD, WATCHDOG_USEC: '200000' });
  t.after(() => daemon.stop());
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  assert.equal(await daemon.stop(), 0);
  assert.ok(!daemon.lines.some((l) => l.includes('service watchdog')), 'no watchdog line');
  assert.deepEqual(listener.received, []);
});

test('a pipeline that hangs on every batch stops the pings, with the reason logged and sent as STATUS=', python, async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const { fixture, closePlc } = await writeHostileFiles({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./loop-forever-process.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'loop-forever-process', 'transform'); },
  });
  t.after(async () => { await closePlc(); await fixture.dispose(); });
  const listener = await startNotifyListener(fixture.dir);
  t.after(() => listener.close());
  const WATCHDOG_USEC = 1_000_000;
  const daemon = startGatewayProcess(fixture.gatewayFile, { ...NO_SYSTEMD, NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: String(WATCHDOG_USEC) });
  t.after(() => daemon.stop());
  await listener.waitFor('READY=1', 1, 30_000);
  const withheld = await daemon.waitForLine((l) => l.includes('WG_ERR_SERVICE_UNHEALTHY'), 'the pings withheld', 30_000);
  // Which verdict comes first depends on where the worker is when the period ends: restarting, or
  // restarted with no batch done. Either names the hostile pipeline.
  const HOSTILE_VERDICT = /pipeline hostile (is stuck: \d+ worker restart\(s\) and no batch done|has been restarting for \d+ ms)/;
  assert.match(withheld, HOSTILE_VERDICT);
  assert.doesNotMatch(withheld, /pipeline healthy/, 'the healthy pipeline is not named');
  await waitFor(() => listener.received.some((n) => n.fields.some((f) => f.startsWith('STATUS=unhealthy: ') && HOSTILE_VERDICT.test(f))), 5_000, () => JSON.stringify(listener.received.slice(-3)));
  // Over the next five intervals no ping comes (one sent just before the verdict may still be on its way).
  const before = listener.with('WATCHDOG=1').length;
  await new Promise((resolve) => setTimeout(resolve, (5 * WATCHDOG_USEC) / 2000));
  assert.ok(listener.with('WATCHDOG=1').length - before <= 1, `${listener.with('WATCHDOG=1').length - before} pings while a pipeline was stuck`);
  assert.ok(daemon.lines.some((l) => l.includes('WG_ERR_PLUGIN_TIMEOUT')), 'the hang was the plugin\'s');
});
