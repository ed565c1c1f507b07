// Regression tests from a hostile review of issue 6's containment. Each names what used to break: the
// daemon ended, a pipeline stopped moving for good, or the cap on plugin memory was bypassed. Each runs
// its hostile fixture next to a healthy pipeline on the same PLC and broker and counts the healthy
// pipeline's messages over a window.
import test, { after, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertKeptUp, keepsItsRate, pipelineYaml, placeWatPlugin, startHostileGateway } from '../support/hostile-gateway.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { MAX_LOG_LINE_BYTES } from '../../src/host/engine/plugin-instance.js';
import { waitFor } from '../support/wait.js';

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const WINDOW_MS = 2000;

test('a decoder whose request frame is too large for the ingress ring fails its exchange; the daemon keeps running', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - path: ./polling-huge-request.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'polling-huge-request', 'decoder'); },
  });
  t.after(() => gw.dispose());
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => (hostile().devices[0]?.pluginErrors ?? 0) >= 3, 10_000, () => JSON.stringify(hostile().devices[0]));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  assert.equal(hostile().devices[0]!.requests, 0, 'nothing that large was sent to the device');
  assert.ok((hostile().polling?.errors ?? 0) >= 3, 'the refusals are counted on the polling instance');
  const refusal = gw.logs.find((l) => l.code === 'WG_ERR_PLUGIN_STATUS' && l.pipeline === 'hostile');
  assert.equal(refusal?.plugin, 'polling-huge-request');
  assert.match(refusal!.msg, /wg_request/);
});

for (const stem of ['encoder-overrun', 'encoder-huge-message']) {
  test(`an encoder with a bad message batch (${stem}) has its batch dropped and counted, not the worker crashed`, async (t) => {
    const gw = await startHostileGateway({
      brokerUrl: broker.url,
      steps: `  - plugin: modbus\n  - path: ./${stem}.wasm\n`,
      place: async (dir) => { await placeWatPlugin(dir, stem, 'encoder'); },
    });
    t.after(() => gw.dispose());
    const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
    await waitFor(() => (hostile().steps[1]?.errors ?? 0) >= 5, 10_000, () => JSON.stringify(hostile()));
    assertKeptUp(await gw.healthyOver(WINDOW_MS));
    assert.equal(hostile().workerRestarts, 0);
    assert.ok(hostile().batchesDropped >= 5);
  });
}

// A wg_stats that always fails (here: 4 MiB of JSON, past what the host reads) was logged as a warning
// at every counters report, once a second for as long as the pipeline ran.
test('a wg_stats that always fails is logged once, then counted, and the pipeline keeps publishing', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./stats-bomb.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'stats-bomb', 'transform'); },
  });
  t.after(() => gw.dispose());
  const refusals = () => gw.logs.filter((l) => l.pipeline === 'hostile' && /cannot read plugin counters/.test(l.msg));
  await waitFor(() => refusals().length >= 1, 10_000);
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  const before = hostile().batchesDone;
  assertKeptUp(await gw.healthyOver(3 * 1000 + 500)); // at least three more counters reports
  assert.ok(hostile().batchesDone - before >= 3, 'the hostile pipeline keeps moving');
  assert.equal(refusals().length, 1, 'said once, not at every report');
  assert.match(refusals()[0]!.msg, /wg_stats output of 4194308 bytes/);
});

/**
 * The real daemon as the unit runs it (a child process with the unit's heap flags, bin/daemon-runtime.js): a
 * healthy pipeline and a hostile one on the same PLC, each subscribed to.
 */
async function startHostileDaemon(t: TestContext, stem: string, kind: 'transform', steps: string) {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [4242] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(
    gatewayYaml(broker.url, `gw-${stem}`, { logLevel: 'info', pipelines: ['./pipeline.yaml', './hostile.yaml'] }),
    pipelineYaml('healthy', plc.port, '  - plugin: modbus\n  - plugin: json'),
  );
  t.after(() => fixture.dispose());
  await placeWatPlugin(fixture.dir, stem, kind);
  await writeFile(join(fixture.dir, 'hostile.yaml'), pipelineYaml('hostile', plc.port, steps));
  const healthy = await subscribe(broker.url, 't/healthy/#', { qos: 0 });
  t.after(() => healthy.close());
  const hostile = await subscribe(broker.url, 't/hostile/#', { qos: 0 });
  t.after(() => hostile.close());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  return { gateway, healthy, hostile };
}

async function healthyCountOver(healthy: TestSubscriber, windowMs: number): Promise<number> {
  const before = healthy.messages.length;
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return healthy.messages.length - before;
}

// A transform that grew four tables by ten million entries per batch put 320 MB on its worker's heap in
// one allocation: plugin_memory caps linear memory only, and under the unit's heap cap (then --max-old-space-size=96)
// V8 answered with "FATAL ERROR: Reached heap limit" and aborted the whole daemon (SIGABRT), every
// pipeline with it.
test('a transform that grows its tables cannot abort the daemon: table growth is capped like memory', { timeout: 60_000 }, async (t) => {
  const { gateway, healthy, hostile } = await startHostileDaemon(t, 'table-bomb', 'transform', '  - plugin: modbus\n  - path: ./table-bomb.wasm\n  - plugin: json');
  // Each hostile message went through a batch in which every table growth was tried.
  await waitFor(() => hostile.messages.length >= 20, 20_000, () => `${hostile.messages.length} hostile messages; ${gateway.lines.slice(-3).join('\n')}`);
  const delivered = await healthyCountOver(healthy, WINDOW_MS);
  assert.ok(delivered >= keepsItsRate(WINDOW_MS), `healthy pipeline delivered ${delivered} messages in ${WINDOW_MS} ms`);
  assert.equal(gateway.lines.filter((l) => l.includes('WG_ERR_PLUGIN_TIMEOUT')).length, 0, 'refused growth is instant, not a hang');
  assert.equal(await gateway.stop(), 0, 'the daemon was still running and stopped cleanly');
});

// A transform that logged 100 lines of 8 MiB per batch (all the per-instance rate limit let through)
// had each line decoded whole in its worker and posted and written whole by the main thread: within
// two seconds the daemon died of "FATAL ERROR: Reached heap limit" (SIGABRT) under the unit's heap
// limit. A plugin's log line is now cut after MAX_LOG_LINE_BYTES, before it is decoded.
test('a plugin that logs huge lines cannot abort the daemon: each line is cut and says so', { timeout: 60_000 }, async (t) => {
  const { gateway, healthy, hostile } = await startHostileDaemon(t, 'log-flood', 'transform', '  - plugin: modbus\n  - path: ./log-flood.wasm\n  - plugin: json');
  await waitFor(() => hostile.messages.length >= 10, 20_000, () => `${hostile.messages.length} hostile messages; ${gateway.lines.slice(-1).join('').slice(0, 300)}`);
  const delivered = await healthyCountOver(healthy, WINDOW_MS);
  assert.ok(delivered >= keepsItsRate(WINDOW_MS), `healthy pipeline delivered ${delivered} messages in ${WINDOW_MS} ms`);
  const lines = gateway.lines.filter((l) => l.includes('"plugin":"log-flood"')).map((l) => JSON.parse(l) as { msg: string });
  assert.ok(lines.length >= 100, `${lines.length} plugin log lines`);
  for (const line of lines) assert.equal(line.msg, `${'A'.repeat(MAX_LOG_LINE_BYTES)}... (${8 * 1024 * 1024 - MAX_LOG_LINE_BYTES} more bytes cut)`);
  assert.equal(await gateway.stop(), 0, 'the daemon was still running and stopped cleanly');
});

// A WebAssembly exception (a wasm `throw` the plugin did not catch) is not a RuntimeError: it went past
// the trap guard and crashed the worker, and each fresh worker crashed on the same batch again.
test('a plugin that throws a WebAssembly exception is contained as a trap: no worker crash, the pipeline keeps moving', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./throw-exception.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'throw-exception', 'transform'); },
  });
  t.after(() => gw.dispose());
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => (hostile().steps[1]?.traps ?? 0) >= 5, 10_000, () => JSON.stringify(hostile()));
  assertKeptUp(await gw.healthyOver(WINDOW_MS));
  assert.equal(hostile().workerRestarts, 0);
  assert.ok(hostile().steps[1]!.reinstantiations >= 5, 'each exception gets a fresh instance, as a trap does');
  assert.match(gw.logs.find((l) => l.pipeline === 'hostile' && l.code === 'WG_ERR_PLUGIN_TRAP')!.msg, /uncaught WebAssembly exception/);
});

// stop() waits for the worker to say 'stopped', with a fallback of 4 x batch deadline + 1 s. A worker
// that died meanwhile (here the watchdog kills it in the final flush tick) never says it, and stop()
// waited out the whole fallback: 41 s with a 10 s deadline, past the unit's TimeoutStopSec of 30 s.
test('stop while a plugin hangs in its final tick ends when the watchdog kills it, without waiting out the fallback', async (t) => {
  const gw = await startHostileGateway({
    brokerUrl: broker.url,
    steps: '  - plugin: modbus\n  - path: ./hang-in-final-tick.wasm\n  - plugin: json',
    place: async (dir) => { await placeWatPlugin(dir, 'hang-in-final-tick', 'transform'); },
  });
  let disposed = false;
  t.after(() => (disposed ? undefined : gw.dispose()));
  const hostile = () => gw.gateway.status().pipelines.find((p) => p.name === 'hostile')!;
  await waitFor(() => hostile().batchesDone >= 5, 10_000, () => JSON.stringify(hostile()));
  const started = performance.now();
  disposed = true;
  await gw.gateway.stop();
  const took = performance.now() - started;
  const fallback = 4 * 300 + 1000; // the hostile pipeline's 300 ms deadline
  assert.equal(hostile().watchdogKills, 1, 'the hung flush was ended by the watchdog');
  assert.ok(took < fallback, `stop took ${took.toFixed(0)} ms; waiting out the fallback takes ${fallback} ms`);
  await gw.dispose();
});
