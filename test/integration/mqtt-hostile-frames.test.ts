/**
 * What the sink's own PUBLISH writer (mqtt-publish-frames.ts) must refuse or count that MQTT.js's
 * publish used to: a topic longer than an MQTT string holds, and the status messages MQTT.js still
 * sends, which take a slot of the broker's Receive Maximum like any QoS 1 PUBLISH (MQTT 5 §3.3.4).
 * A real mosquitto, behind the TCP relay where the test needs to hold PUBACKs back; every byte the
 * sink sent is parsed with mqtt-packet (another implementation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { relayTo } from '../support/tcp-relay.js';
import { publishes } from '../support/mqtt-publish-parser.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';

const gate = needs('mosquitto', !!mosquittoPath());
const silent = pino({ level: 'silent' });

/** 65,536 bytes of UTF-8, one over: 'l/' 2 bytes, 21,844 '€' of 3 bytes each (65,532), 'ab' 2. */
const LONG_TOPIC = `l/${'€'.repeat(21_844)}ab`;

test('a topic over 65,535 bytes of UTF-8 is refused for good (WG_ERR_UPLINK_REFUSED), live or queued, and holds nothing up', gate, async (t) => {
  assert.equal(Buffer.byteLength(LONG_TOPIC), 65_536);
  const broker = await startMosquitto({});
  t.after(() => broker.stop());
  const subscriber = await subscribe(broker.url, 'l/#', { protocolVersion: 5 });
  t.after(() => subscriber.close());
  const sink = new MqttSink({ name: 'up', url: broker.url, clientId: 'long-topic-gw', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 20, maxMs: 200 }, connectTimeoutMs: 5_000, protocol: '5' }, silent);
  t.after(() => sink.close(1_000));
  const code = (p: Promise<void>) => p.then(() => 'delivered', (e: { code?: string }) => e.code);

  // Queued before the connection: written from the connect handler.
  const queued = [code(sink.publish(LONG_TOPIC, 'x')), code(sink.publish('l/after-queued', 'y'))];
  sink.start();
  await sink.waitConnected(10_000);
  assert.deepEqual(await Promise.all(queued), ['WG_ERR_UPLINK_REFUSED', 'delivered']);
  // The error (and so the log line) names the topic by its first 120 characters, not all 64 KiB.
  const refusal = await sink.publish(LONG_TOPIC, 'x').then(() => undefined, (e: Error) => e.message);
  assert.ok(refusal !== undefined && refusal.includes(`${LONG_TOPIC.slice(0, 120)}…: its topic is 65536 bytes`), refusal?.slice(0, 300));
  assert.ok(refusal.length < 400, `the message is ${refusal.length} characters`);
  // Live.
  assert.deepEqual(await Promise.all([code(sink.publish(LONG_TOPIC, 'x', { qos: 0 })), code(sink.publish('l/after-live', 'y'))]), ['WG_ERR_UPLINK_REFUSED', 'delivered']);
  assert.equal(sink.backlog(), 0);
  await subscriber.waitFor(2, 10_000);
  assert.deepEqual(subscriber.messages.map((m) => m.topic), ['l/after-queued', 'l/after-live']);
});

test('the online status takes one of the broker\'s Receive Maximum slots: with 2, one data message goes beside it until a PUBACK comes', gate, async (t) => {
  const broker = await startMosquitto({ maxInflightMessages: 2 });
  t.after(() => broker.stop());
  const relay = await relayTo(broker.port);
  t.after(() => relay.close());
  const subscriber = await subscribe(broker.url, 'rm/#', { protocolVersion: 5 });
  t.after(() => subscriber.close());
  const status = { topic: 'rm/status', online: 'online', offline: 'offline', stopped: 'stopped' };
  const sink = new MqttSink({ name: 'up', url: relay.url, clientId: 'rm-status-gw', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 20, maxMs: 200 }, connectTimeoutMs: 5_000, protocol: '5', status }, silent);
  t.after(() => sink.close(1_000));
  const topics = ['rm/d0', 'rm/d1', 'rm/d2', 'rm/d3'];
  const sends = topics.map((topic, i) => sink.publish(topic, String(i)));
  for (const send of sends) send.catch(() => {}); // awaited below; a failed assertion before must not leave them unhandled
  // The CONNACK gets through, no PUBACK does: what is written is what the sink holds unacknowledged.
  relay.holdAcks = true;
  sink.start();
  await sink.waitConnected(10_000);
  await subscriber.waitFor(2, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  const first = publishes(relay.sent[0]!).filter((p) => p.qos === 1);
  assert.deepEqual(first.map((p) => p.topic), ['rm/status', 'rm/d0'], 'the status and one data message: 2, the Receive Maximum');

  relay.holdAcks = false;
  relay.cut();
  await Promise.all(sends);
  await subscriber.waitFor(2 + 1 + 4, 10_000);
  assert.deepEqual(subscriber.messages.filter((m) => m.topic !== 'rm/status').map((m) => m.topic), ['rm/d0', ...topics]);
});

/**
 * A slow uplink (a 4G link at 2 Mbit/s) in front of `port`: what the client sends reaches the broker at
 * `bytesPerSecond`, in slices of a tenth of that every 100 ms; what the broker sends goes back at once.
 */
async function slowLinkTo(port: number, bytesPerSecond: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let waiting = Buffer.alloc(0);
    const tick = setInterval(() => {
      const slice = waiting.subarray(0, bytesPerSecond / 10);
      waiting = waiting.subarray(slice.length);
      if (slice.length > 0) upstream.write(slice);
    }, 100);
    client.on('data', (chunk) => {
      waiting = Buffer.concat([waiting, chunk]);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = (): void => {
      clearInterval(tick);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${own}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a link saturated by a backlog is not taken for dead: its PUBACKs keep it alive while the PINGREQ waits behind the data', gate, async (t) => {
  const broker = await startMosquitto({});
  t.after(() => broker.stop());
  // 250 KB/s; 100 messages of 16 KiB are 1.6 MB, 6.5 s of sending: the PINGREQ written at 2 s (the
  // keepalive) reaches the broker some 4 s later, past MQTT.js's deadline for its PINGRESP (1 s after).
  const link = await slowLinkTo(broker.port, 250_000);
  t.after(() => link.close());
  const subscriber = await subscribe(broker.url, 'slow/#', { protocolVersion: 5 });
  t.after(() => subscriber.close());
  const sink = new MqttSink({ name: 'up', url: link.url, clientId: 'slow-gw', qos: 1, keepaliveMs: 2_000, reconnect: { minMs: 20, maxMs: 200 }, connectTimeoutMs: 5_000, protocol: '5' }, silent);
  t.after(() => sink.close(1_000));
  sink.start();
  await sink.waitConnected(10_000);
  const payload = Buffer.alloc(16 * 1024, 0x61);
  await Promise.all(Array.from({ length: 100 }, (_, i) => sink.publish(`slow/${i}`, payload)));
  assert.equal(sink.counters().reconnects, 0, 'one connection carried it all');
  await subscriber.waitFor(100, 10_000);
  assert.equal(subscriber.messages.length, 100, 'each message once: nothing written again on a new connection');
});
