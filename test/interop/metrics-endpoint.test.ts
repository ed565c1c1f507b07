/**
 * The metrics and health endpoint of a real daemon (child process) polling the PLC simulator and
 * publishing to mosquitto: fetched with Node's HTTP client, the text parsed by the Prometheus
 * project's own parser (Debian's python3-prometheus-client). The counters are checked against what
 * the test can count itself (the subscriber's messages) and against each other in one scrape; health
 * and readiness follow the device and the pipeline, not the uplink.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { hasPrometheusParser, parsePrometheus, sampleValue, type MetricFamily } from '../support/prometheus.js';
import { needs } from '../support/tools.js';
import { waitForAsync } from '../support/wait.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';

const gate = { ...needs('mosquitto', !!mosquittoPath()), ...needs('python3-prometheus-client', hasPrometheusParser()) };

function withMetrics(yaml: string, listen: string): string {
  return `${yaml}metrics: { listen: "${listen}" }\n`;
}

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let gateway: GatewayProcess;
let base: string;

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [42] } } });
  fixture = await writeGatewayFixture(withMetrics(gatewayYaml(broker.url, 'gw-metrics', { logLevel: 'info' }), '127.0.0.1:0'), onePointPipelineYaml(plc.port, { timeoutMs: 200, device: 'retries: 0' }));
  subscriber = await subscribe(broker.url, 'plant/#');
  gateway = startGatewayProcess(fixture.gatewayFile);
  const line = await gateway.waitForLine((l) => l.includes('metrics and health on'), 'the metrics line', 30_000);
  const { port } = JSON.parse(line) as { port: number };
  base = `http://127.0.0.1:${port}`;
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
});

after(async () => {
  await gateway?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

async function scrape(): Promise<MetricFamily[]> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

const device = { pipeline: 'plant', device: 'plc' };

test('the metrics parse as Prometheus text; counters have counter type, gauges gauge, the RTT a histogram', gate, async () => {
  await subscriber.waitFor(5, 20_000);
  const families = await scrape();
  const type = (name: string) => families.find((f) => f.name === name)?.type;
  // The parser names a counter's family without its _total.
  assert.equal(type('wasmgate_device_polls'), 'counter');
  assert.equal(type('wasmgate_outbox_messages'), 'gauge');
  assert.equal(type('wasmgate_device_rtt_seconds'), 'histogram');
  assert.equal(type('wasmgate_outbox_delivery_seconds'), 'histogram');
  assert.ok((sampleValue(families, 'process_resident_memory_bytes') ?? 0) > 1_000_000, 'process memory');
  assert.equal(sampleValue(families, 'wasmgate_info', { gateway: 'gw-metrics' }), 1);
  // No point is a label anywhere: cardinality is bounded by devices, steps and uplinks.
  assert.ok(families.every((f) => f.samples.every((s) => !('point' in s.labels))));
});

test('device, plugin, uplink and outbox figures agree with what the test counts and with each other', gate, async () => {
  const first = await scrape();
  await subscriber.waitFor(subscriber.messages.length + 5, 20_000);
  const seenBefore = subscriber.messages.length;
  const second = await scrape();
  const polls = (f: MetricFamily[]) => sampleValue(f, 'wasmgate_device_polls_total', device)!;
  assert.ok(polls(second) > polls(first), `polls grow: ${polls(first)} then ${polls(second)}`);
  // One snapshot per scrape: the RTT histogram counts exactly the answers.
  const responses = sampleValue(second, 'wasmgate_device_responses_total', device)!;
  assert.equal(sampleValue(second, 'wasmgate_device_rtt_seconds_count', device), responses);
  assert.equal(sampleValue(second, 'wasmgate_device_rtt_seconds_bucket', { ...device, le: '+Inf' }), responses);
  assert.ok(sampleValue(second, 'wasmgate_device_rtt_seconds_bucket', { ...device, le: '0.001' })! <= sampleValue(second, 'wasmgate_device_rtt_seconds_bucket', { ...device, le: '1' })!, 'buckets are cumulative');
  assert.equal(sampleValue(second, 'wasmgate_device_connected', device), 1);
  assert.equal(sampleValue(second, 'wasmgate_uplink_connected', { uplink: 'cloud' }), 1);
  // What the subscriber had seen before the scrape was acknowledged by then, but for the one or two
  // whose PUBACK was still on its way (at 10 messages a second); and nothing is acknowledged that the
  // pipeline did not make.
  const acked = sampleValue(second, 'wasmgate_uplink_acked_total', { uplink: 'cloud' })!;
  assert.ok(acked >= seenBefore - 2, `acked ${acked}, the subscriber had seen ${seenBefore}`);
  assert.ok(acked <= sampleValue(second, 'wasmgate_pipeline_messages_total', { pipeline: 'plant' })!);
  assert.equal(sampleValue(second, 'wasmgate_outbox_delivery_seconds_count', { uplink: 'cloud' }), sampleValue(second, 'wasmgate_outbox_delivered_total', { uplink: 'cloud' }));
  assert.equal(sampleValue(second, 'wasmgate_plugin_traps_total', { pipeline: 'plant', step: '1', plugin: 'modbus' }), 0);
  // The worker reports its step counters now and then, so they trail the poller's: some, not all.
  assert.ok(sampleValue(second, 'wasmgate_plugin_items_in_total', { pipeline: 'plant', step: '1', plugin: 'modbus' })! > 0);
  assert.equal(sampleValue(second, 'wasmgate_outbox_durable', { uplink: 'cloud' }), 1);
  // The broker up on loopback: messages are acknowledged within the commit delay and never written.
  const unwritten = sampleValue(second, 'wasmgate_outbox_unwritten_total', { uplink: 'cloud' })!;
  assert.ok(unwritten >= 1 && unwritten <= sampleValue(second, 'wasmgate_outbox_delivered_total', { uplink: 'cloud' })!, `unwritten ${unwritten}`);
  assert.equal(sampleValue(second, 'wasmgate_pipeline_running', { pipeline: 'plant' }), 1);
});

test('the stage histograms: the worker times each batch it takes and runs, the main thread each drain', gate, async () => {
  await subscriber.waitFor(subscriber.messages.length + 5, 20_000);
  const families = await scrape();
  assert.equal(families.find((f) => f.name === 'wasmgate_pipeline_stage_seconds')?.type, 'histogram');
  const count = (stage: string) => sampleValue(families, 'wasmgate_pipeline_stage_seconds_count', { pipeline: 'plant', stage })!;
  // One ingress wait and one chain call per batch, posted in the same report: always equal.
  assert.ok(count('chain') > 0, 'the worker reported batches');
  assert.equal(count('ingress_wait'), count('chain'));
  // A drain hands over at least one message, so there are no more drains than messages.
  assert.ok(count('egress_wait') > 0 && count('egress_wait') <= sampleValue(families, 'wasmgate_pipeline_messages_total', { pipeline: 'plant' })!);
  for (const stage of ['ingress_wait', 'chain', 'egress_wait']) {
    const labels = { pipeline: 'plant', stage };
    assert.ok(sampleValue(families, 'wasmgate_pipeline_stage_seconds_bucket', { ...labels, le: '0.00005' })! <= sampleValue(families, 'wasmgate_pipeline_stage_seconds_bucket', { ...labels, le: '1' })!, `${stage}: buckets are cumulative`);
    assert.equal(sampleValue(families, 'wasmgate_pipeline_stage_seconds_bucket', { ...labels, le: '+Inf' }), count(stage));
  }
});

test('healthz and readyz: 200 while the device answers; an uplink away leaves it ready; a dead device makes it unready, not unhealthy', gate, async () => {
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ok: true, problems: [] });

  await broker.stop();
  await waitForAsync(async () => sampleValue(await scrape(), 'wasmgate_uplink_connected', { uplink: 'cloud' }) === 0, 10_000);
  await waitForAsync(async () => (sampleValue(await scrape(), 'wasmgate_outbox_messages', { uplink: 'cloud' }) ?? 0) >= 3, 10_000, () => 'the outbox holds the readings while the broker is away');
  assert.equal((await fetch(`${base}/readyz`)).status, 200, 'the uplink being away does not make the gateway unready');
  await broker.start();

  await plc.close();
  let body: { ok: boolean; problems: string[] } | undefined;
  await waitForAsync(async () => {
    const res = await fetch(`${base}/readyz`);
    body = (await res.json()) as typeof body;
    return res.status === 503;
  }, 15_000, () => JSON.stringify(body));
  assert.deepEqual(body, { ok: false, problems: ['pipeline plant: none of its 1 device(s) answers'] });
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'a dead device is not a sick gateway');
});

test('other paths and methods are refused with 404 and 405', gate, async () => {
  assert.equal((await fetch(`${base}/nothing`)).status, 404);
  const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('a taken port stops the daemon before it polls anything, saying which address', gate, async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const other = await writeGatewayFixture(withMetrics(gatewayYaml(broker.url, 'gw-metrics-2', { logLevel: 'info' }), `127.0.0.1:${port}`), onePointPipelineYaml(1));
  try {
    const daemon = startGatewayProcess(other.gatewayFile);
    const code = await daemon.exited;
    assert.equal(code, 1);
    assert.ok(daemon.lines.some((l) => l.includes('WG_ERR_METRICS_LISTEN') && l.includes(`127.0.0.1:${port}`)), daemon.lines.join('\n'));
    assert.ok(!daemon.lines.some((l) => l.includes('"gateway started"')), 'nothing started');
  } finally {
    blocker.close();
    await other.dispose();
  }
});
