// A flood into an mqtt_subscribe source: memory stays bounded, everything is counted, and a Modbus
// device polled by another pipeline of the same gateway keeps its poll rate. The daemon runs as a real
// child process (its RSS is what is measured); mosquitto is the broker, mosquitto_pub -l the flooding
// device, the demo PLC simulator the polled one. QoS 0 over the rate is dropped and counted; QoS 1 is
// held back at the broker and every message arrives in the end (the broker runs without its queue
// limit, max_queued_messages 0, so that what it holds is bounded by nothing but the test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { mosquittoPubPath, publishLines, publishRepeated } from '../support/mosquitto-pub.js';
import { gatewayYaml } from '../support/gateway-fixture.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushSourceStatus } from '../../src/host/sources/push-source.js';

const tools = needs('mosquitto and mosquitto_pub', mosquittoPath() !== undefined && mosquittoPubPath() !== undefined);
const MB = 1024 * 1024;
/** The daemon may grow this much while the flood goes on (the source holds one message at a time; the rest is V8's garbage between collections). */
const RSS_BOUND = 32 * MB;
const FLOOD = 100_000;
const RATE = 200;
const BURST = 50;
const WINDOW_MS = 2_000;

function sensorsPipeline(brokerUrl: string, qos: 0 | 1, rate: number): string {
  return `pipeline: { name: sensors }
source:
  mqtt_subscribe:
    broker: { url: ${brokerUrl}, client_id: gw-flood-sensors, reconnect: { min: 50ms, max: 500ms } }
    qos: ${qos}
    rate: ${rate}
    burst: ${BURST}
    topics:
      - pattern: plant/{device}/{point}
    devices:
      - name: boiler1
        points: [{ name: temp }]
steps:
  - plugin: payload
  - plugin: json
publish: { uplink: cloud, topic: "out/{device}/{point}" }
`;
}

function plantPipeline(plcPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 50ms, timeout: 500ms, retries: 0, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant-out/{point}" }
`;
}

async function sourceStatus(gatewayFile: string): Promise<PushSourceStatus> {
  const run = await runWasmgate(['status', '--json', '--config', gatewayFile]);
  assert.equal(run.code, 0, run.stderr);
  const status = JSON.parse(run.stdout) as { pipelines: Array<{ name: string; pushSources: PushSourceStatus[] }> };
  return status.pipelines.find((p) => p.name === 'sensors')!.pushSources[0]!;
}

async function withGateway(qos: 0 | 1, rate: number, body: (ctx: { gatewayFile: string; port: number; plc: { readonly requests: number }; rss: () => number }) => Promise<void>): Promise<void> {
  const broker = await startMosquitto({ quiet: true, unthrottled: true });
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-flood-'));
  const gatewayFile = join(dir, 'gateway.yaml');
  await writeFile(gatewayFile, gatewayYaml(broker.url, 'gw-flood', { pipelines: ['./sensors.yaml', './plant.yaml'] }));
  await writeFile(join(dir, 'sensors.yaml'), sensorsPipeline(broker.url, qos, rate));
  await writeFile(join(dir, 'plant.yaml'), plantPipeline(plc.port));
  const gateway = startGatewayProcess(gatewayFile);
  try {
    await waitFor(() => plc.requests >= 20, 30_000, () => `plc ${plc.requests}`);
    for (let s = await sourceStatus(gatewayFile); !s.listening; s = await sourceStatus(gatewayFile)) await new Promise((r) => setTimeout(r, 100));
    await body({ gatewayFile, port: broker.port, plc, rss: () => gateway.rssBytes() });
  } finally {
    await gateway.stop();
    await rm(dir, { recursive: true, force: true });
    await plc.close();
    await broker.dispose();
  }
}

/** Requests the PLC received during one window of WINDOW_MS, calling `during` every 20 ms. */
async function requestsInWindow(plc: { readonly requests: number }, during: () => void = () => {}): Promise<number> {
  const start = plc.requests;
  const end = Date.now() + WINDOW_MS;
  while (Date.now() < end) {
    during();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return plc.requests - start;
}

test('a QoS 0 flood: over the rate dropped and counted, every message counted once, RSS bounded, the Modbus pipeline keeps its poll rate', { ...tools, timeout: 180_000 }, async () => {
  await withGateway(0, RATE, async ({ gatewayFile, port, plc, rss }) => {
    const before = await requestsInWindow(plc);
    const rssBefore = rss();
    let rssPeak = rssBefore;
    const sample = () => void (rssPeak = Math.max(rssPeak, rss()));
    const startedAt = performance.now();
    const flood = publishRepeated(port, 'plant/boiler1/temp', '21.5', FLOOD);
    const during = await requestsInWindow(plc, sample);
    await flood;
    // Everything mosquitto delivered is counted: accepted, or refused by a reason.
    let status = await sourceStatus(gatewayFile);
    for (let last = -1; status.own.received !== last; status = await sourceStatus(gatewayFile)) {
      last = status.own.received!;
      sample();
      await new Promise((r) => setTimeout(r, 500));
    }
    const elapsedS = (performance.now() - startedAt) / 1000;
    const refused = Object.values(status.refused).reduce((a, b) => a + b, 0);
    assert.equal(status.accepted + refused, status.own.received, JSON.stringify(status));
    // Over the rate the source reads at most about 8 000 a second (mqtt-subscription.ts): the rest waits at the broker.
    assert.ok(status.own.received! > BURST && status.own.received! <= FLOOD, `mosquitto delivered ${status.own.received} of ${FLOOD}`);
    assert.ok(status.refused.rate > 0, JSON.stringify(status.refused));
    // The token bucket's bound, by arithmetic: the burst, then RATE a second over the time it ran.
    assert.ok(status.accepted <= BURST + RATE * elapsedS, `${status.accepted} accepted in ${elapsedS.toFixed(1)} s, at most ${BURST} + ${RATE}/s`);
    const growth = rssPeak - rssBefore;
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MB).toFixed(1)} MB during a flood of ${FLOOD} messages`);
    assert.ok(during >= 0.6 * before, `the PLC was polled ${during} times during the flood, ${before} times in a window before`);
  });
});

test('a QoS 1 flood over the rate is held back at the broker, not dropped: every message arrives, none refused', { ...tools, timeout: 180_000 }, async () => {
  const count = 1_500;
  await withGateway(1, 500, async ({ gatewayFile, port }) => {
    await publishLines(port, 'plant/boiler1/temp', Array.from({ length: count }, (_, i) => String(i)), { qos: 1 });
    let status = await sourceStatus(gatewayFile);
    const deadline = Date.now() + 60_000;
    while (status.accepted < count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = await sourceStatus(gatewayFile);
    }
    assert.equal(status.accepted, count, JSON.stringify(status));
    assert.equal(Object.values(status.refused).reduce((a, b) => a + b, 0), 0, JSON.stringify(status.refused));
    assert.ok(status.own.held_back! > 0, `held back ${status.own.held_back}`);
  });
});
