// The mqtt_subscribe source end to end with independent peers: Debian's mosquitto as the broker the
// devices publish to, Debian's mosquitto_pub as the devices, the gateway subscribing (payload → json
// in the pipeline worker) and publishing to the same broker under out/, where a plain MQTT.js
// subscriber checks every value. Expected values are the ones published, as the payload plugin's
// documentation says it reads them (a bare number; {"value", "quality"}; an object of point names).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startMosquitto, mosquittoPath, type MosquittoBroker } from '../support/mosquitto.js';
import { mosquittoPubPath, publish } from '../support/mosquitto-pub.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import type { PushSourceStatus } from '../../src/host/sources/push-source.js';
import { makeTlsFiles, opensslPath } from '../support/tls-certs.js';

const tools = needs('mosquitto and mosquitto_pub', mosquittoPath() !== undefined && mosquittoPubPath() !== undefined);

function pipelineYaml(brokerUrl: string, options: { clientId?: string; cleanSession?: boolean; extra?: string; broker?: string } = {}): string {
  return `pipeline: { name: devices }
source:
  mqtt_subscribe:
    broker:
      url: ${brokerUrl}
      client_id: ${options.clientId ?? 'gw-test-devices'}
      clean_session: ${options.cleanSession ?? true}
      reconnect: { min: 50ms, max: 500ms }
${options.broker ?? ''}${options.extra ?? ''}    topics:
      - pattern: plant/{device}/{point}
      - pattern: meters/{device}/state
    devices:
      - name: boiler1
        points: [{ name: temp, unit: degC }, { name: pressure, unit: bar }]
      - name: meter7
        points: [{ name: power, unit: kW }, { name: energy, unit: kWh }]
steps:
  - plugin: payload
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "out/{gateway}/{device}/{point}"
  qos: 1
`;
}

let broker: MosquittoBroker;
before(async () => {
  if (!tools.skip) broker = await startMosquitto();
});
after(() => broker?.dispose());

interface Running {
  gateway: Gateway;
  logs: string[];
  source(): PushSourceStatus;
  stop(): Promise<void>;
}

async function startGateway(pipeline: string, dir?: { gatewayFile: string }): Promise<Running & { fixture: Awaited<ReturnType<typeof writeGatewayFixture>> | undefined }> {
  const fixture = dir ? undefined : await writeGatewayFixture(gatewayYaml(broker.url), pipeline);
  const loaded = await loadGatewayConfig(dir?.gatewayFile ?? fixture!.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const logs: string[] = [];
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }), statusIntervalMs: 0 });
  const source = () => gateway.status().pipelines[0]!.pushSources[0]!;
  // Listening: connected, and the broker acknowledged the subscriptions.
  await waitFor(() => source().listening, 10_000, () => JSON.stringify(source()));
  return { gateway, logs, source, fixture, stop: () => gateway.stop() };
}

function byPoint(messages: readonly ReceivedMessage[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const m of messages) out.set(m.topic, JSON.parse(m.payload.toString()) as Record<string, unknown>);
  return out;
}

test('values published by mosquitto_pub reach a subscriber on the uplink through payload → json, by topic level, one point or a whole device', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const running = await startGateway(pipelineYaml(broker.url));
  try {
    await publish(broker.port, 'plant/boiler1/temp', '21.5', { qos: 1 });
    await publish(broker.port, 'plant/boiler1/pressure', '{"value": 1.25, "quality": "suspect"}', { qos: 1 });
    await publish(broker.port, 'meters/meter7/state', '{"power": 1.5, "energy": 1200}', { qos: 0 });
    await subscriber.waitUntil((m) => byPoint(m).size === 4, 'a message for each of the four points', 10_000);
    const got = byPoint(subscriber.messages);
    const reading = (topic: string) => {
      const body = got.get(topic);
      assert.ok(body, `${topic}: nothing arrived (got ${[...got.keys()].join(', ')})`);
      return [body.point, body.value, body.quality, body.unit];
    };
    assert.deepEqual(reading('out/gw-test/boiler1/temp'), ['temp', 21.5, 'good', 'degC']);
    assert.deepEqual(reading('out/gw-test/boiler1/pressure'), ['pressure', 1.25, 'suspect', 'bar']);
    assert.deepEqual(reading('out/gw-test/meter7/power'), ['power', 1.5, 'good', 'kW']);
    assert.deepEqual(reading('out/gw-test/meter7/energy'), ['energy', 1200, 'good', 'kWh']);
    const source = running.source();
    assert.equal(source.kind, 'mqtt_subscribe');
    assert.equal(source.endpoint, broker.url);
    assert.equal(source.accepted, 3);
    assert.deepEqual(Object.values(source.refused).reduce((a, b) => a + b, 0), 0);
  } finally {
    await running.stop();
    await subscriber.close();
    await running.fixture?.dispose();
  }
});

test('hostile topics and payloads are refused and counted by reason, logged with the topic; the source goes on taking good ones', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const running = await startGateway(pipelineYaml(broker.url, { extra: '    max_body: 1KiB\n' }));
  try {
    const longLevel = 'x'.repeat(60_000);
    await publish(broker.port, 'plant/boiler9/temp', '1'); // no such device
    await publish(broker.port, 'plant/boiler1/flow', '2'); // no such point
    await publish(broker.port, `plant/${longLevel}/temp`, '3'); // a 60 kB level naming nothing
    await publish(broker.port, 'plant/kessel-ü/temp', '4'); // UTF-8, no such device
    await publish(broker.port, 'plant/boiler1/temp/extra', '5'); // a level too many: fits no pattern
    await publish(broker.port, 'plant/boiler1/temp', Buffer.alloc(2048, 0x31)); // over max_body
    await publish(broker.port, 'plant/boiler1/temp', '{{{'); // not JSON, not CBOR
    await publish(broker.port, 'plant/boiler1/temp', Buffer.from([0xff, 0x00, 0xfe])); // a CBOR break out of place
    await publish(broker.port, 'plant/boiler1/temp', '22.5');
    await subscriber.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'the good reading after the hostile ones', 10_000);
    const got = byPoint(subscriber.messages);
    assert.equal(got.get('out/gw-test/boiler1/temp')!.value, 22.5);
    assert.equal(subscriber.messages.length, 1, 'nothing else was published');
    await waitFor(() => running.source().accepted === 3, 5_000, () => JSON.stringify(running.source()));
    const source = running.source();
    // plant/boiler1/temp/extra is not delivered at all: plant/+/+ does not match it at the broker.
    assert.equal(source.refused.unknown_resource, 4);
    assert.equal(source.refused.too_large, 1);
    assert.equal(source.accepted, 3, 'the two bodies the decoder cannot read, and the good one, reached the ring');
    // The worker reports its steps' counters (wg_stats) now and then, not per batch.
    const decoder = () => running.gateway.status().pipelines[0]!.steps[0]!;
    await waitFor(() => (decoder().stats.pushed ?? 0) + (decoder().stats.malformed ?? 0) === 3, 10_000, () => JSON.stringify(decoder().stats));
    assert.equal(decoder().stats.malformed, 2, JSON.stringify(decoder().stats));
    const refusals = running.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'push.refused');
    assert.ok(refusals.length >= 1, 'refusals are logged');
    const first = refusals[0]!;
    assert.equal(first.resource, 'plant/boiler9/temp');
    assert.equal(first.sender, broker.url);
    assert.equal(first.reason, 'unknown_resource');
  } finally {
    await running.stop();
    await subscriber.close();
    await running.fixture?.dispose();
  }
});

test('a QoS 1 reading published while the gateway is stopped reaches the uplink once it runs again: the broker kept it for the persistent session', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(broker.url, { cleanSession: false }));
  try {
    const first = await startGateway('', fixture);
    await first.stop();
    await publish(broker.port, 'plant/boiler1/temp', '30.5', { qos: 1 });
    const second = await startGateway('', fixture);
    try {
      await subscriber.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'the reading published while the gateway was stopped', 10_000);
      assert.equal(byPoint(subscriber.messages).get('out/gw-test/boiler1/temp')!.value, 30.5);
    } finally {
      await second.stop();
    }
  } finally {
    await subscriber.close();
    await fixture.dispose();
  }
});

test('the source reconnects with back-off when the broker restarts, and takes readings again', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const running = await startGateway(pipelineYaml(broker.url));
  try {
    await subscriber.close();
    await broker.stop();
    await waitFor(() => !running.source().listening, 10_000, () => JSON.stringify(running.source()));
    await broker.start();
    await waitFor(() => running.source().listening, 20_000, () => JSON.stringify(running.source()));
    assert.ok(running.source().own.reconnects! >= 1, JSON.stringify(running.source().own));
    const again = await subscribe(broker.url, 'out/#');
    try {
      await publish(broker.port, 'plant/boiler1/temp', '19.25', { qos: 1 });
      await again.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'a reading after the reconnection', 10_000);
      assert.equal(byPoint(again.messages).get('out/gw-test/boiler1/temp')!.value, 19.25);
      assert.ok(running.logs.some((l) => l.includes('"event":"subscription.lost"')), 'the lost connection is logged');
    } finally {
      await again.close();
    }
  } finally {
    await running.stop();
    await running.fixture?.dispose();
  }
});

test("over mutual TLS (mqtts://, the broker requiring a client certificate): the source's broker block takes the uplink's tls settings", needs('mosquitto, mosquitto_pub and openssl', !tools.skip && opensslPath() !== undefined), async () => {
  const files = makeTlsFiles();
  const tlsBroker = await startMosquitto({ tls: { ca: files.ca, cert: files.serverCert, key: files.serverKey, requireCertificate: true } });
  const subscriber = await subscribe(tlsBroker.url, 'out/#');
  const fixture = await writeGatewayFixture(gatewayYaml(tlsBroker.url), pipelineYaml(tlsBroker.tlsUrl!, {
    broker: `      tls: { ca: ${files.ca}, cert: ${files.clientCert}, key: ${files.clientKey} }\n`,
  }));
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
  try {
    const source = () => gateway.status().pipelines[0]!.pushSources[0]!;
    await waitFor(() => source().listening, 10_000, () => JSON.stringify(source()));
    assert.equal(source().endpoint, tlsBroker.tlsUrl);
    await publish(tlsBroker.port, 'plant/boiler1/temp', '23.75', { qos: 1 });
    await subscriber.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'the reading taken over TLS', 10_000);
    assert.equal(byPoint(subscriber.messages).get('out/gw-test/boiler1/temp')!.value, 23.75);
    // mosquitto took the client certificate's CN as the user name (use_identity_as_username).
    await tlsBroker.waitForLog(/New client connected from .* as gw-test-devices .*u'gateway-1'/);
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
    await tlsBroker.dispose();
    files.dispose();
  }
});

test('hostile8b: a shared subscription ($share/<group>/plant/{device}/{point}): mosquitto delivers under the plain topic, and the reading reaches the uplink', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const running = await startGateway(pipelineYaml(broker.url).replace('pattern: plant/{device}/{point}', 'pattern: "$share/wg/plant/{device}/{point}"'));
  try {
    await publish(broker.port, 'plant/boiler1/temp', '19.25', { qos: 1 });
    await subscriber.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'the shared subscription\'s reading', 10_000);
    assert.equal(byPoint(subscriber.messages).get('out/gw-test/boiler1/temp')!.value, 19.25);
    assert.equal(running.source().accepted, 1);
  } finally {
    await running.stop();
    await subscriber.close();
    await running.fixture?.dispose();
  }
});

test('hostile8b: a topic two patterns fit (plant/{device}/{point} and plant/boiler1/{point}) is one reading, though mosquitto sends a copy per filter over MQTT 5', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  const overlapping = pipelineYaml(broker.url).replace('      - pattern: meters/{device}/state\n', '      - pattern: meters/{device}/state\n      - pattern: plant/boiler1/{point}\n        device: boiler1\n');
  const running = await startGateway(overlapping);
  try {
    await publish(broker.port, 'plant/boiler1/temp', '20.5', { qos: 1 });
    // Both copies handled: one taken, its twin (for the third pattern) left.
    await waitFor(() => running.source().own.received === 2, 10_000, () => JSON.stringify(running.source()));
    await subscriber.waitUntil((m) => m.some((x) => x.topic === 'out/gw-test/boiler1/temp'), 'the reading', 10_000);
    assert.equal(running.source().accepted, 1, JSON.stringify(running.source()));
    assert.equal(running.source().own.overlap_copies, 1);
  } finally {
    await running.stop();
    await subscriber.close();
    await running.fixture?.dispose();
  }
  assert.equal(subscriber.messages.filter((m) => m.topic === 'out/gw-test/boiler1/temp').length, 1);
});

test('hostile8b: QoS 1 messages held back by the rate for longer than the keep-alive: the connection stays up and every message arrives once', tools, async () => {
  const subscriber = await subscribe(broker.url, 'out/#');
  // keepalive 1 s, two messages a second: twelve messages take ~6 s, six keep-alives, held back one by
  // one. Before, MQTT.js read no PINGRESP while a message was in hand and closed the connection
  // ("Keepalive timeout"); on this clean session the broker then dropped the 8 it still held.
  const yaml = pipelineYaml(broker.url, { broker: '      keepalive: 1s\n', extra: '    rate: 2\n    burst: 1\n' });
  const running = await startGateway(yaml);
  try {
    for (let i = 0; i < 12; i++) await publish(broker.port, 'plant/boiler1/temp', String(i), { qos: 1 });
    await waitFor(() => running.source().accepted >= 12, 30_000, () => JSON.stringify(running.source()));
    await subscriber.waitUntil((m) => m.filter((x) => x.topic === 'out/gw-test/boiler1/temp').length >= 12, 'twelve readings', 10_000);
    const values = subscriber.messages.filter((m) => m.topic === 'out/gw-test/boiler1/temp').map((m) => (JSON.parse(m.payload.toString()) as { value: number }).value);
    assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(running.source().own.reconnects, 0, JSON.stringify(running.source()));
    assert.equal(running.source().own.connected, 1);
  } finally {
    await running.stop();
    await subscriber.close();
    await running.fixture?.dispose();
  }
});
