// A QoS 1 message is acknowledged only once its reading is committed to the ingress ring. The
// listener (MqttSubscription, the PushGate, a real FrameIngress over a real ring) subscribes at
// Debian's mosquitto with a persistent session; mosquitto_pub publishes six readings. The ring is made
// so small, and nobody drains it, that only the first few fit: the next one waits for room, unacked.
// The listener then stops (as at a gateway stop: the ingress closes under the waiting write), and a
// new listener with the same client id takes the session up again. What the broker hands it again is
// exactly what the first one never committed: each committed reading was acknowledged, no other was.
// Killing the daemon between receipt and commit is the same case from the broker's side (no PUBACK
// came); here the moment is held open by the full ring instead of raced.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRing } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';
import { FrameIngress } from '../../src/host/poll/frame-ingress.js';
import { MqttSubscription } from '../../src/host/sources/mqtt-subscription.js';
import { TopicRoutes } from '../../src/host/sources/mqtt-topic-routes.js';
import { PushGate } from '../../src/host/sources/push-gate.js';
import type { ResolvedDevice } from '../../src/host/config/resolved.js';
import type { ResolvedMqttBroker } from '../../src/host/sources/mqtt-subscribe.js';
import { systemClock } from '../../src/hal/clock.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { mosquittoPubPath, publish } from '../support/mosquitto-pub.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const tools = needs('mosquitto and mosquitto_pub', mosquittoPath() !== undefined && mosquittoPubPath() !== undefined);

const DEVICE = { index: 0, name: 'boiler1', points: [{ id: 0, name: 'temp' }] } as unknown as ResolvedDevice;
const TOPICS = [{ pattern: 'plant/{device}/{point}', filter: 'plant/+/+', qos: 1 as const, device: null, point: null, at: [] }];

function listener(url: string, ring: SharedArrayBuffer) {
  const ingress = new FrameIngress(new RingWriter(ring));
  const broker: ResolvedMqttBroker = {
    url, clientId: 'gw-puback', username: null, password: null, keepaliveMs: 30_000, reconnect: { minMs: 50, maxMs: 500 },
    tls: null, protocol: '3.1.1', cleanSession: false, sessionExpiryMs: null,
  };
  const gate = new PushGate({ name: 'mqtt_subscribe', kind: 'mqtt_subscribe', endpoint: url }, { ratePerSecond: 1000, burst: 100, maxWaiting: 1 }, {
    ingress: { push: (frame) => ingress.writePushed(frame), maxBodyBytes: 1024 },
    clock: systemClock,
    log: () => undefined,
  });
  const subscription = new MqttSubscription({ name: 'mqtt_subscribe', broker, filters: [{ filter: 'plant/+/+', qos: 1 }], routes: new TopicRoutes(TOPICS, [DEVICE]), gate, log: () => undefined });
  return { ingress, subscription };
}

/** The bodies of the pushed records in `ring`, in order (docs/plugin-abi.md: request part at 28, body after it). */
function bodies(ring: SharedArrayBuffer): string[] {
  const reader = new RingReader(ring);
  const out: string[] = [];
  for (let record = reader.next(); record; record = reader.next()) {
    // The ring's payload starts after the record's u32 length, so each offset of the table is minus 4.
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    assert.equal(view.getUint16(4, true), 4, 'status: pushed');
    const requestLength = view.getUint16(20, true);
    out.push(Buffer.from(record.subarray(28 + requestLength)).toString());
  }
  return out;
}

test('a QoS 1 message not yet committed to the ingress ring is not acknowledged: the broker hands exactly those out again to the persistent session', tools, async () => {
  const broker = await startMosquitto();
  try {
    // 512 bytes: records of 28 + ~25 request bytes + a 40-byte body, about 96 bytes padded: a few fit.
    const full = createRing(512);
    const first = listener(broker.url, full);
    await first.subscription.start();
    await waitFor(() => first.subscription.status().listening, 10_000);
    const sent = Array.from({ length: 6 }, (_, i) => `{"value": ${i + 1}, "quality": "good", "n": "${'.'.repeat(12)}"}`);
    for (const body of sent) await publish(broker.port, 'plant/boiler1/temp', body, { qos: 1 });
    // The ring fills; the next message waits for room (a back-pressure wait), unacknowledged.
    await waitFor(() => first.ingress.backPressureWaits > 0, 10_000, () => JSON.stringify(first.subscription.status()));
    const committed = first.subscription.status().accepted;
    assert.ok(committed >= 1 && committed < sent.length, `${committed} of ${sent.length} committed`);
    // A stop while it waits: the ingress gives up the write, the listener withholds its PUBACK.
    first.ingress.close();
    await first.subscription.stop();
    const inFirstRing = bodies(full);
    assert.deepEqual(inFirstRing, sent.slice(0, committed));

    const drained = createRing(64 * 1024);
    const second = listener(broker.url, drained);
    await second.subscription.start();
    try {
      await waitFor(() => second.subscription.status().accepted >= sent.length - committed, 10_000, () => JSON.stringify(second.subscription.status()));
      // Give the broker the chance to send anything more it holds: a message after them, through the same session.
      await publish(broker.port, 'plant/boiler1/temp', '"last"', { qos: 1 });
      await waitFor(() => second.subscription.status().accepted === sent.length - committed + 1, 10_000, () => JSON.stringify(second.subscription.status()));
      assert.deepEqual(bodies(drained), [...sent.slice(committed), '"last"'], 'redelivered: exactly the messages never committed, in order, then the new one');
    } finally {
      second.ingress.close();
      await second.subscription.stop();
    }
  } finally {
    await broker.dispose();
  }
});
