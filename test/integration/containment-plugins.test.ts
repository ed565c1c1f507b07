// Regression tests: a hostile plugin in one pipeline used to take the whole gateway down. A decoder that
// trapped in wg_frame_length ended the process ("instance is poisoned", exit 1); one that looped there
// froze all I/O; a looping wg_stats froze its pipeline while status said running; a memory bomb took
// the process to 4.2 GB; a plugin trapping on every batch wrote a log line per batch. Each test runs
// the hostile fixture next to a healthy pipeline on the same PLC and broker and counts the healthy
// pipeline's messages over a window.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { assertKeptUp, placeWatPlugin, startHostileGateway, writeHostileFiles } from '../support/hostile-gateway.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startFloodingDevice } from '../fixtures/devices/flooding-device.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { pipelineYaml } from '../support/hostile-gateway.js';
import { REPO_ROOT } from '../support/plugins.js';
import { daemonCommand } from '../support/gateway-process.js';
import { waitFor } from '../support/wait.js';

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const WINDOW_MS = 2000;

test('a decoder that traps in wg_frame_length fails only its own exchanges; the healthy pipeline keeps its rate', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - path: ./polling-trap-in-framing.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'polling-trap-in-framing', 'decoder'); },
  });
  t.after(() => gw.dispose());
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => (hostile().polling?.traps ?? 0) >= 3, 10_000, () => JSON.stringify(hostile().polling));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  const status = hostile();
  assert.equal(status.state, 'running', 'a trap does not restart the worker');
  assert.ok(status.devices[0]!.pluginErrors >= 3, 'the failed exchanges are counted on the device');
  assert.ok(status.polling!.reinstantiations >= 2, 'each trap gets a fresh polling instance');
  const trapLogs = gw.logs.filter((l) => l.code === 'WG_ERR_PLUGIN_TRAP' && l.pipeline === 'hostile');
  assert.ok(trapLogs.length >= 1, 'the trap is logged');
  assert.equal(trapLogs[0]!.plugin, 'polling-trap-in-framing');
  assert.match(trapLogs[0]!.msg, /wg_frame_length/);
  // Traps at the poll rate (20/s) for several seconds: the log holds the first and then at most one
  // summary per 10 s, with the count.
  assert.ok(status.polling!.traps > trapLogs.length * 10, `${status.polling!.traps} traps, ${trapLogs.length} log lines`);
});

test('a decoder that loops in wg_frame_length gets its worker killed; the healthy pipeline keeps its rate and stop is prompt', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - path: ./polling-loop-in-framing.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'polling-loop-in-framing', 'decoder'); },
  });
  let disposed = false;
  t.after(() => (disposed ? undefined : gw.dispose()));
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => hostile().watchdogKills >= 1, 10_000, () => JSON.stringify(hostile()));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  const kill = gw.logs.find((l) => l.code === 'WG_ERR_PLUGIN_TIMEOUT' && l.pipeline === 'hostile');
  assert.ok(kill, 'the kill is logged');
  assert.equal(kill.plugin, 'polling-loop-in-framing');
  assert.match(kill.msg, /framing device traffic/);
  assert.ok(hostile().devices[0]!.pluginErrors >= 1, 'the exchange the kill cut short is counted');
  // The daemon is not frozen: it stops as asked.
  disposed = true;
  await gw.dispose();
});

test('a transform whose wg_stats never returns is killed by the watchdog instead of freezing silently', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./loop-forever-stats.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'loop-forever-stats', 'transform'); },
  });
  t.after(() => gw.dispose());
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => hostile().watchdogKills >= 1, 10_000, () => JSON.stringify(hostile()));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  const kill = gw.logs.find((l) => l.code === 'WG_ERR_PLUGIN_TIMEOUT' && l.pipeline === 'hostile')!;
  assert.equal(kill.plugin, 'loop-forever-stats');
  assert.match(kill.msg, /reading its counters/);
  assert.equal(hostile().batchesDropped, 0, 'a hung stats call skips no input');
});

test('a memory bomb is held to plugin_memory: it traps at the cap, RSS stays within the caps plus a constant', async (t) => {
  const capMiB = 8;
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./memory-bomb.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'memory-bomb', 'transform'); },
    pipelineExtra: `  plugin_memory: ${capMiB}MiB\n`,
  });
  t.after(() => gw.dispose());
  const rssBefore = process.memoryUsage().rss;
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  // Every batch grows a fresh instance to the cap and traps: 40 bombs of 8 MiB each.
  await waitFor(() => (hostile().steps[1]?.traps ?? 0) >= 40, 20_000, () => JSON.stringify(hostile().steps[1]));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  // One live bombed instance plus instances not yet collected: far below the 40 × 8 MiB bombed in
  // total, let alone the 4 GiB the module asked for.
  assert.ok(grown < 4 * capMiB + 64, `RSS grew ${grown.toFixed(0)} MiB`);
  assert.equal(hostile().state, 'running');
  assert.equal(hostile().watchdogKills, 0, 'refused growth is a trap, not a hang');
});

// The daemon as systemd runs it: a decoder looping in wg_frame_length used to freeze the process's
// event loop, so `wasmgate run` ignored SIGTERM. Now the kill happens in a worker; the daemon drains
// and exits 0 (exit 1 would mean it needed its stop deadline).
test('wasmgate run with a decoder that loops in wg_frame_length still stops on SIGTERM, exit 0', async (t) => {
  const { fixture, closePlc } = await writeHostileFiles({
    brokerUrl: broker.url,
    steps: '  - path: ./polling-loop-in-framing.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'polling-loop-in-framing', 'decoder'); },
  });
  t.after(async () => { await closePlc(); await fixture.dispose(); });
  const healthy = await subscribe(broker.url, 't/healthy/#', { qos: 0 });
  t.after(() => healthy.close());
  const daemon = daemonCommand(fixture.gatewayFile);
  const child = spawn(daemon.argv[0]!, daemon.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: daemon.env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await waitFor(() => /WG_ERR_PLUGIN_TIMEOUT/.test(output), 20_000, () => output.slice(-2000));
  const before = healthy.messages.length;
  await waitFor(() => healthy.messages.length >= before + 10, 10_000, () => `${healthy.messages.length - before} healthy messages after the kill`);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output.slice(-2000));
  assert.match(output, /gateway stopped/);
});

// Regression: the poller grew its receive buffer for as long as the decoder said "need more", for a
// whole timeout; a device that streams made that hundreds of megabytes. A response now stops at the
// protocol's largest frame (260 bytes for Modbus TCP) as a framing error.
test('a decoder that never finds a frame end, against a streaming device: the response is cut at 260 bytes', async (t) => {
  const device = await startFloodingDevice();
  t.after(() => device.close());
  const fixture = await writeGatewayFixture(
    gatewayYaml(broker.url, 'gw-test', { logLevel: 'warn' }),
    pipelineYaml('hostile', device.port, '  - path: ./polling-never-frames.wasm\n  - plugin: json'),
  );
  t.after(() => fixture.dispose());
  await placeWatPlugin(fixture.dir, 'polling-never-frames', 'decoder');
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const logs: string[] = [];
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'warn' }, { write: (l: string) => { logs.push(l); } }), statusIntervalMs: 0 });
  t.after(() => gateway.stop());
  device.flood();
  const status = () => gateway.status().pipelines[0]!.devices[0]!;
  await waitFor(() => status().framingErrors >= 3, 15_000, () => JSON.stringify(status()));
  assert.ok(logs.some((l) => /still no whole frame; a frame has at most 260/.test(l)), logs.slice(-3).join('\n'));
});
