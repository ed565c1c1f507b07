/**
 * QoS 1 messages the broker took but whose PUBACK never reached the gateway (the link died on the way
 * back): the MQTT sink writes them again on the next connection, first, with the same packet ids and
 * the DUP flag (MQTT 5 §4.4), marked as replays (docs/delivery.md), and settles them on that
 * connection's PUBACKs. A real mosquitto behind the TCP relay (test/support/tcp-relay.ts), which drops
 * what the broker sends while `stall` is set; every byte the sink sent is parsed with mqtt-packet
 * (another implementation).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoOptions } from '../support/mosquitto.js';
import { relayTo } from '../support/tcp-relay.js';
import { publishes } from '../support/mqtt-publish-parser.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

/** mosquitto, the relay in front of it, an MQTT 5 subscriber to `root/#` on the broker itself, and a connected MQTT 5 sink through the relay. */
async function sinkBehindRelay(t: TestContext, options: MosquittoOptions, root: string) {
  const broker = await startMosquitto(options);
  t.after(() => broker.stop());
  const relay = await relayTo(broker.port);
  t.after(() => relay.close());
  const subscriber = await subscribe(broker.url, `${root}/#`, { protocolVersion: 5 });
  t.after(() => subscriber.close());
  const sink = new MqttSink({ name: 'up', url: relay.url, clientId: `${root}-gw`, qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 20, maxMs: 200 }, connectTimeoutMs: 5_000, protocol: '5' }, pino({ level: 'silent' }));
  t.after(() => sink.close(1_000));
  sink.start();
  await sink.waitConnected(10_000);
  return { relay, subscriber, sink };
}

test('unacknowledged QoS 1 messages go again first on the next connection, same packet ids, DUP set, marked replays', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const { relay, subscriber, sink } = await sinkBehindRelay(t, {}, 'resend');

  relay.stall = true;
  const settled: string[] = [];
  const sends = [1, 2, 3].map((seq) => sink.publish(`resend/r${seq}`, `{"v":${seq}}`, { stamp: { seq, createdAtMs: Date.now() } }).then(() => settled.push(`r${seq}`)));
  // The broker has them (the subscriber got them); their PUBACKs died in the relay.
  await subscriber.waitFor(3, 10_000);
  assert.deepEqual(settled, [], 'no PUBACK reached the sink');
  assert.equal(subscriber.messages.filter((m) => m.userProperties?.replay !== undefined).length, 0, 'first writes are live');

  relay.stall = false;
  relay.cut();
  await waitFor(() => relay.sent.length >= 2 && sink.state === 'connected', 10_000, () => 'the sink reconnected');
  const fourth = sink.publish('resend/r4', '{"v":4}', { stamp: { seq: 4, createdAtMs: Date.now() } });
  await Promise.all([...sends, fourth]);
  assert.deepEqual(settled, ['r1', 'r2', 'r3'], 'settled in order, by the second connection\'s PUBACKs');

  const [firstConnection, secondConnection] = relay.sent.map(publishes);
  const data = (packets: mqttPacket.IPublishPacket[]) => packets.filter((p) => p.topic.startsWith('resend/'));
  const before = data(firstConnection!);
  const after = data(secondConnection!);
  assert.deepEqual(before.map((p) => p.topic), ['resend/r1', 'resend/r2', 'resend/r3']);
  assert.deepEqual(before.map((p) => p.dup), [false, false, false]);
  assert.deepEqual(after.map((p) => p.topic), ['resend/r1', 'resend/r2', 'resend/r3', 'resend/r4'], 'the resends first, then the new one');
  assert.deepEqual(after.slice(0, 3).map((p) => p.messageId), before.map((p) => p.messageId), 'the same packet ids');
  assert.deepEqual(after.map((p) => p.dup), [true, true, true, false]);
  assert.deepEqual(after.map((p) => p.properties?.userProperties?.replay), ['true', 'true', 'true', undefined], 'resends marked replays, the new one live');
  assert.equal(new Set(after.map((p) => p.messageId)).size, 4, 'the new message has an id of its own');

  // The subscriber sees each resend again (at least once), then r4.
  await subscriber.waitFor(7, 10_000);
  assert.deepEqual(subscriber.messages.slice(3).map((m) => m.topic), ['resend/r1', 'resend/r2', 'resend/r3', 'resend/r4']);
  assert.equal(sink.counters().acked, 4);
});

test('the broker\'s Receive Maximum: never more QoS 1 messages unacknowledged than it says, the rest in order as PUBACKs come, QoS 0 behind them', needs('mosquitto', !!mosquittoPath()), async (t) => {
  // mosquitto tells an MQTT 5 client its max_inflight_messages as the CONNACK's Receive Maximum.
  const { relay, subscriber, sink } = await sinkBehindRelay(t, { maxInflightMessages: 5 }, 'rmax');

  // No PUBACK gets back: the sink may write 5 and must hold the other 15 (and the QoS 0 one behind them).
  relay.stall = true;
  const topics = [...Array.from({ length: 20 }, (_, i) => `rmax/q1-${i}`), 'rmax/q0-last'];
  const sends = topics.map((topic, i) => sink.publish(topic, String(i), { qos: topic.includes('q0') ? 0 : 1 }));
  await subscriber.waitFor(5, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  const first = publishes(relay.sent[0]!).filter((p) => p.topic.startsWith('rmax/'));
  assert.deepEqual(first.map((p) => p.topic), topics.slice(0, 5), 'exactly the Receive Maximum written, in order');
  assert.equal(sink.backlog(), 21);

  // The link comes back: the 5 again (DUP), then the rest, 5 at a time as PUBACKs come, QoS 0 last.
  relay.stall = false;
  relay.cut();
  await Promise.all(sends);
  const second = publishes(relay.sent[1]!).filter((p) => p.topic.startsWith('rmax/'));
  assert.deepEqual(second.map((p) => p.topic), topics);
  assert.deepEqual(second.map((p) => p.dup), topics.map((_, i) => i < 5));
  await subscriber.waitFor(26, 10_000);
  assert.deepEqual(subscriber.messages.slice(5).map((m) => m.topic), topics);
});
