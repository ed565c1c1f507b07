/**
 * The gateway's retained status and last will, with the real daemon (child process) and Debian's
 * mosquitto. `online` on connect; `kill -9` of the daemon leaves the broker to publish the will,
 * `offline`; a planned stop publishes `stopped` itself (set apart from `offline` here, so the test
 * tells the two paths apart) and the broker discards the will. Retained: a subscriber that comes later
 * reads the last word. The subscriber is a plain MQTT.js client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';

const STEP_MS = 20_000;
const gate = needs('mosquitto', !!mosquittoPath());

// A device nobody answers for: the gateway runs, polls in vain, and its uplink is what is watched.
const PIPELINE = `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: 1, interval: 1s, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
`;

async function started(file: string): Promise<GatewayProcess> {
  const gateway = startGatewayProcess(file);
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  return gateway;
}

const words = (sub: TestSubscriber) => sub.messages.map((m) => m.payload.toString());

/** What a subscriber arriving now is handed: the retained word, flagged retained. */
async function retained(url: string, topic: string): Promise<string> {
  const late = await subscribe(url, topic);
  try {
    const [message] = await late.waitFor(1, STEP_MS);
    assert.equal(message!.retain, true, 'handed over as the retained value');
    return message!.payload.toString();
  } finally {
    await late.close();
  }
}

test('online on connect; kill -9 of the gateway: the broker publishes the will, offline, retained; online again after a restart', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-will', { logLevel: 'info' }), PIPELINE);
  t.after(() => fixture.dispose());
  const topic = 'wasmgate/gw-will/status'; // the default topic, wasmgate/{gateway}/status
  const sub = await subscribe(broker.url, topic);
  t.after(() => sub.close());

  const first = await started(fixture.gatewayFile);
  t.after(() => first.stop());
  await sub.waitUntil((m) => m.length >= 1, 'online', STEP_MS);
  assert.deepEqual(words(sub), ['online']);

  process.kill(first.pid, 'SIGKILL');
  await first.stop(); // waits for the exit
  await sub.waitUntil((m) => m.length >= 2, 'the will', STEP_MS);
  assert.deepEqual(words(sub), ['online', 'offline']);
  assert.equal(await retained(broker.url, topic), 'offline');

  const second = await started(fixture.gatewayFile);
  t.after(() => second.stop());
  await sub.waitUntil((m) => m.length >= 3, 'online after the restart', STEP_MS);
  assert.deepEqual(words(sub), ['online', 'offline', 'online']);
  assert.equal(await retained(broker.url, topic), 'online');
});

test('a planned stop publishes stopped before disconnecting, and the will is not published', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const fixture = await writeGatewayFixture(
    gatewayYaml(broker.url, 'gw-stop', { logLevel: 'info', uplink: ['      status: { topic: "site/{gateway}/{uplink}", stopped: stopped }'] }),
    PIPELINE,
  );
  t.after(() => fixture.dispose());
  const topic = 'site/gw-stop/cloud';
  const sub = await subscribe(broker.url, topic);
  t.after(() => sub.close());

  const gateway = await started(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await sub.waitUntil((m) => m.length >= 1, 'online', STEP_MS);
  assert.equal(await gateway.stop(), 0);
  await sub.waitUntil((m) => m.length >= 2, 'stopped', STEP_MS);
  // Had the broker published the will at the disconnect, the retained word would be "offline" now.
  assert.equal(await retained(broker.url, topic), 'stopped');
  assert.deepEqual(words(sub), ['online', 'stopped']);
});
