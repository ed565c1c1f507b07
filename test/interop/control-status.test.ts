/**
 * `wasmgate status` against the real daemon (`wasmgate run` in a child process) polling pymodbus and
 * publishing to mosquitto, over the daemon's real control socket: what it prints and its JSON, the
 * socket's mode, a second daemon on the same socket refused while the first goes on, hostile clients
 * that leave the publishing rate alone (counted at the broker, before and during, in one run), a
 * stale socket file reused, and the file gone after a clean stop. Expected names and versions come
 * from the files the test wrote and the plugins' own manifests, not from the daemon.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { pipelineYaml } from '../support/hostile-gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { REPO_ROOT } from '../support/plugins.js';
import { waitFor } from '../support/wait.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const gate = needs('python3-pymodbus', !!findPymodbusPython());
const WINDOW_MS = 2000;

function manifestVersion(plugin: string): string {
  return (parse(readFileSync(join(REPO_ROOT, 'plugins', plugin, 'plugin.yaml'), 'utf8')) as { version: string }).version;
}

let broker: TestBroker;
let plc: PymodbusServer;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;
let socketPath: string;

async function startDaemon(): Promise<GatewayProcess> {
  const started = startGatewayProcess(fixture.gatewayFile);
  await started.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  return started;
}

before(async () => {
  if (gate.skip) return;
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  plc = await startPymodbusServer({ holding: { 0: [4242] } });
  fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-status', { logLevel: 'info' }), pipelineYaml('plant', plc.port, '  - plugin: modbus\n  - plugin: json'));
  socketPath = join(fixture.dir, 'data', 'control.sock');
  subscriber = await subscribe(broker.url, 't/plant/#', { qos: 0 });
  daemon = await startDaemon();
  await subscriber.waitFor(5, 20_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.stop();
  await broker?.dispose();
  await fixture?.dispose();
});

async function statusJson(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}

async function countOver(windowMs: number): Promise<number> {
  const start = subscriber.messages.length;
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return subscriber.messages.length - start;
}

test('wasmgate status shows the gateway, its pipeline with plugin names and versions, the device and the uplink', gate, async () => {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.match(lines[0]!, /^gateway gw-status: up \d+s \(since \d{4}-\d\d-\d\dT[\d:.]+Z\), wasmgate \S+, pid \d+$/);
  assert.ok(lines[0]!.endsWith(`pid ${daemon.pid}`), lines[0]);
  assert.match(run.stdout, /^pipeline plant: running; \d+ published, 0 batches dropped, 0 watchdog kills, 0 worker restarts$/m);
  assert.ok(run.stdout.includes(`  step 1 modbus ${manifestVersion('modbus')} (decoder): `), run.stdout);
  assert.ok(run.stdout.includes(`  step 2 json ${manifestVersion('json')} (encoder): `), run.stdout);
  assert.match(run.stdout, /^ {2}link \S+ \(modbus_tcp\): connected, utilisation [\d.]+%, \d+ transactions$/m);
  assert.match(run.stdout, /^ {2}device plc on \S+: connected; \d+ polls, \d+ answers, 0 timeouts, \d+ overruns/m);
  assert.match(run.stdout, /^uplink cloud: connected; \d+ acked, 0 failed, \d+ reconnects$/m);
  assert.match(run.stdout, /^ {2}outbox: \d+ waiting \([\d.]+ (B|KiB|MiB)\)(, oldest \S+ old)?; \d+ delivered, \d+ replayed, 0 dropped \(0 over the size cap, 0 over the age cap\), 0 dead letters$/m);
  // --socket names the same daemon.
  const direct = await runWasmgate(['status', '--socket', socketPath]);
  assert.equal(direct.code, 0, direct.stderr);
  assert.match(direct.stdout, /^gateway gw-status: /);
});

test('status --json is the status object; the device counters grow between two calls', gate, async () => {
  const first = await statusJson();
  await subscriber.waitFor(subscriber.messages.length + 5, 10_000);
  const second = await statusJson();
  assert.equal(second.gateway, 'gw-status');
  assert.equal(second.pid, daemon.pid);
  const [p1, p2] = [first.pipelines[0]!, second.pipelines[0]!];
  assert.equal(p2.name, 'plant');
  assert.deepEqual(p2.steps.map((s) => [s.plugin, s.kind, s.version]), [['modbus', 'decoder', manifestVersion('modbus')], ['json', 'encoder', manifestVersion('json')]]);
  const [d1, d2] = [p1.devices[0]!, p2.devices[0]!];
  assert.equal(d2.device, 'plc');
  assert.equal(d2.connected, true);
  assert.equal(d2.quarantined, false);
  assert.ok(d2.responses > d1.responses, `responses ${d1.responses} then ${d2.responses}`);
  assert.ok(d2.polls > d1.polls, `polls ${d1.polls} then ${d2.polls}`);
  assert.ok(p2.published > p1.published, `published ${p1.published} then ${p2.published}`);
  assert.ok(second.uptimeMs > first.uptimeMs);
  assert.equal(second.uplinks[0]!.name, 'cloud');
  assert.equal(second.uplinks[0]!.state, 'connected');
});

test('the control socket is 0600, owned by the daemon', gate, async () => {
  const file = await lstat(socketPath);
  assert.ok(file.isSocket());
  assert.equal(file.mode & 0o777, 0o600);
  assert.equal(file.uid, process.getuid!());
});

test('a second daemon on the same socket is refused with WG_ERR_CONTROL_SOCKET_IN_USE before it polls; the first goes on', gate, async () => {
  const second = await runWasmgate(['run', '--config', fixture.gatewayFile]);
  assert.equal(second.code, 1, second.stdout + second.stderr);
  const fatal = second.stdout.split('\n').filter((l) => l.includes('WG_ERR_CONTROL_SOCKET_IN_USE'));
  assert.equal(fatal.length, 1, second.stdout);
  const line = JSON.parse(fatal[0]!) as { level: number; msg: string; code: string };
  assert.equal(line.level, 60);
  assert.ok(line.msg.includes(socketPath), line.msg);
  assert.ok(line.msg.includes(`pid ${daemon.pid}, gateway gw-status`), line.msg);
  assert.ok(!second.stdout.includes('polling device') && !second.stdout.includes('gateway started'), 'the second daemon started nothing');
  // The first still answers and still publishes.
  const before = subscriber.messages.length;
  await subscriber.waitFor(before + 5, 10_000);
  assert.equal((await statusJson()).pid, daemon.pid);
});

interface Hostile {
  socket: Socket;
  lines: string[];
  closed: Promise<void>;
}

async function hostile(): Promise<Hostile> {
  const socket = connect(socketPath);
  await once(socket, 'connect');
  const lines: string[] = [];
  let partial = '';
  socket.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  socket.on('error', () => undefined);
  return { socket, lines, closed: once(socket, 'close').then(() => undefined) };
}

function codeOf(line: string | undefined): string | undefined {
  return line === undefined ? undefined : (JSON.parse(line) as { error?: { code: string } }).error?.code;
}

test('hostile control clients get errors or are closed, and the daemon keeps publishing at its rate', gate, async () => {
  const rateBefore = await countOver(WINDOW_MS);
  const during = countOver(WINDOW_MS);

  const oversized = await hostile();
  oversized.socket.write(Buffer.alloc(70 * 1024, 0x7b)); // "{{{{..." and no newline
  const garbage = await hostile();
  garbage.socket.write('\u0000\u00ff garbage }\n');
  const unknown = await hostile();
  unknown.socket.write('{"id":1,"op":"format_disk"}\n');
  const vanishing = await hostile();
  vanishing.socket.write('{"id":1,"op":"stat');
  vanishing.socket.destroy();
  await oversized.closed;
  await waitFor(() => garbage.lines.length > 0 && unknown.lines.length > 0, 5000);
  assert.equal(codeOf(oversized.lines[0]), 'WG_ERR_CONTROL_REQUEST');
  assert.equal(codeOf(garbage.lines[0]), 'WG_ERR_CONTROL_REQUEST');
  assert.equal(codeOf(unknown.lines[0]), 'WG_ERR_CONTROL_UNKNOWN_OP');
  assert.match(unknown.lines[0]!, /known: hello, plugin.install, plugin.list, plugin.rollback, read, reload, status, write/);
  garbage.socket.destroy();
  unknown.socket.destroy();

  // Fifty connections at once, left open; one of those let in asks for status as fast as it is answered.
  const crowd = await Promise.all(Array.from({ length: 50 }, () => hostile()));
  await waitFor(() => crowd.filter((c) => codeOf(c.lines[0]) === 'WG_ERR_CONTROL_TOO_MANY_CONNECTIONS').length >= 50 - 16, 5000);
  const flooder = crowd.find((c) => c.lines.length === 0 && !c.socket.destroyed)!;
  let asked = 0;
  const flood = (async () => {
    while (!flooder.socket.destroyed) {
      flooder.socket.write(`{"id":${++asked},"op":"status"}\n`);
      await waitFor(() => flooder.lines.length >= asked || flooder.socket.destroyed, 5000);
    }
  })();
  const rateDuring = await during;
  const busy = crowd.filter((c) => codeOf(c.lines[0]) === 'WG_ERR_CONTROL_TOO_MANY_CONNECTIONS').length;
  for (const c of crowd) c.socket.destroy();
  await flood;

  assert.ok(rateBefore > 0, 'published before');
  assert.ok(rateDuring >= rateBefore * 0.6, `${rateDuring} messages during the hostile window against ${rateBefore} in the one before`);
  assert.ok(busy >= 50 - 16, `${busy} of the 50 were refused as busy`);
  assert.ok(asked > 1, 'the flooder was answered, again and again');
  // Afterwards the socket serves an ordinary client.
  assert.equal((await statusJson()).gateway, 'gw-status');
});

test('after a clean stop the socket file is gone; a stale one left by a killed daemon is reused', gate, async () => {
  assert.equal(await daemon.stop(), 0);
  assert.equal(existsSync(socketPath), false, 'removed at stop');
  // A socket file nobody listens on, as a daemon killed with SIGKILL leaves it.
  execFileSync(findPymodbusPython()!, ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', socketPath]);
  const stale = await runWasmgate(['status', '--socket', socketPath]);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /nobody listens on it/);
  daemon = await startDaemon();
  assert.equal((await statusJson()).pid, daemon.pid);
  assert.equal((await lstat(socketPath)).mode & 0o777, 0o600);
  assert.equal(await daemon.stop(), 0);
  assert.equal(existsSync(socketPath), false);
});

test('status with no daemon exits 1 with one line naming the socket and how to point at another', async () => {
  const none = join(REPO_ROOT, 'dist', 'no-daemon-here.sock');
  const run = await runWasmgate(['status', '--socket', none]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.ok(lines[0]!.includes(none), lines[0]);
  assert.match(lines[0]!, /--config FILE or --socket PATH \[WG_ERR_CONTROL_UNREACHABLE\]$/);
  const saved = process.env.WASMGATE_SOCKET;
  process.env.WASMGATE_SOCKET = none; // inherited by the child runWasmgate spawns
  try {
    const fromEnv = await runWasmgate(['status']);
    assert.equal(fromEnv.code, 1);
    assert.ok(fromEnv.stderr.includes(none), fromEnv.stderr);
  } finally {
    if (saved === undefined) delete process.env.WASMGATE_SOCKET;
    else process.env.WASMGATE_SOCKET = saved;
  }
});
