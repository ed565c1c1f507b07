/**
 * The sender between the durable outbox and an uplink, with real parts: the SQLite outbox in a temp
 * directory, the MQTT sink against mosquitto with an independent subscriber, the CoAP sink against
 * libcoap's coap-server. Every message carries its seq in its payload, so the subscriber can count
 * them: none missing, held in the outbox while the broker is away, the outbox empty once all were
 * delivered, and a message the peer refuses for good dead-lettered instead of sent round again.
 * (That nothing leaves the outbox before delivery is for the kill -9 tests, once the sender is wired
 * into the gateway.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { UplinkSender } from '../../src/host/outbox/uplink-sender.js';
import type { NewMessage } from '../../src/host/outbox/outbox-store.js';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { CoapSink } from '../../src/host/sinks/coap.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { findLibcoap, startLibcoapServer } from '../support/libcoap-server.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const CAPS = { default: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 24 * 3600_000, maxDeadLetters: 100 } };

function batch(uplink: string, from: number, count: number): NewMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    uplink, topic: 'sender/test', payload: Buffer.from(String(from + i)), qos: 1 as const, retain: false, createdAtMs: Date.now(),
  }));
}

describe('outbox to MQTT', needs('mosquitto', !!mosquittoPath()), () => {
  let broker: TestBroker;
  let dir: string;
  let subscriber: TestSubscriber;
  before(async () => {
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'wasmgate-sender-'));
    subscriber = await subscribe(broker.url, 'sender/#', { persistentId: 'sender-test-sub' });
  });
  after(async () => {
    await subscriber?.close();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('every message appended arrives, an outage in the middle loses none, and the outbox is empty once all were acknowledged', async () => {
    const store = new SqliteOutbox({ file: join(dir, 'outbox.db'), caps: CAPS });
    const sink = new MqttSink({ name: 'cloud', url: broker.url, clientId: 'sender-test', qos: 1, keepaliveMs: 5_000, reconnect: { minMs: 50, maxMs: 200 } }, silent);
    sink.start();
    const sender = new UplinkSender({ uplink: 'cloud', store, sink, window: 64, retryMs: 100, logger: silent });
    sender.start();
    const seen = () => new Set(subscriber.messages.map((m) => Number(m.payload.toString())));
    try {
      // Seqs are the payloads here: the store numbers from 1, and so do the payloads.
      for (let b = 0; b < 10; b++) {
        store.append(batch('cloud', b * 100 + 1, 100));
        sender.wake();
      }
      await waitFor(() => seen().size >= 500, 20_000, () => `${seen().size} seen`);
      await broker.stop();
      for (let b = 10; b < 20; b++) {
        store.append(batch('cloud', b * 100 + 1, 100));
        sender.wake();
      }
      assert.ok(store.stats('cloud').messages > 0, 'held in the outbox while the broker is away');
      await broker.start();
      await waitFor(() => seen().size >= 2000, 30_000, () => `${seen().size} of 2000 seen; outbox ${JSON.stringify(store.stats('cloud'))}; sender ${JSON.stringify(sender.counters)}`);
      const missing = Array.from({ length: 2000 }, (_, i) => i + 1).filter((n) => !seen().has(n));
      assert.deepEqual(missing, []);
      await waitFor(() => store.stats('cloud').messages === 0, 10_000, () => JSON.stringify(store.stats('cloud')));
    } finally {
      await sender.stop();
      await sink.close();
      store.close();
    }
  });
});

describe('outbox to CoAP', needs('libcoap3-bin', findLibcoap()), () => {
  test('a message the server refuses for good is dead-lettered once; the one after it is delivered', async () => {
    const server = await startLibcoapServer({ maxResources: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'wasmgate-sender-coap-'));
    const store = new SqliteOutbox({ file: join(dir, 'outbox.db'), caps: CAPS });
    const sink = new CoapSink({ name: 'field', host: '127.0.0.1', port: server.port, path: ['ingest'], method: 'PUT', qos: 1, blockSize: 1024, inFlight: 1, maxRetransmit: 4, reconnect: { minMs: 50, maxMs: 200 } }, silent);
    sink.start();
    const sender = new UplinkSender({ uplink: 'field', store, sink, window: 1, retryMs: 100, logger: silent });
    sender.start();
    try {
      // One dynamic resource may be made: the first PUT makes it, the second (another path) is 4.06.
      store.append([
        { uplink: 'field', topic: 'a', payload: Buffer.from('1'), qos: 1, retain: false, createdAtMs: Date.now() },
        { uplink: 'field', topic: 'b', payload: Buffer.from('2'), qos: 1, retain: false, createdAtMs: Date.now() },
        { uplink: 'field', topic: 'a', payload: Buffer.from('3'), qos: 1, retain: false, createdAtMs: Date.now() },
      ]);
      sender.wake();
      await waitFor(() => sender.counters.delivered + sender.counters.deadLettered === 3, 10_000, () => JSON.stringify(sender.counters));
      assert.deepEqual(sender.counters, { sent: 3, delivered: 2, deadLettered: 1, failed: 0 });
      const dead = store.deadLetters('field', 10);
      assert.deepEqual(dead.map((d) => [d.seq, d.topic]), [[2, 'b']]);
      assert.match(dead[0]!.reason, /refused the message for good: b: the server refused it for good with 4\.\d\d/);
      assert.equal(await server.get('/ingest/a'), '3');
      assert.equal(store.stats('field').messages, 0);
    } finally {
      await sender.stop();
      await sink.close();
      store.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
