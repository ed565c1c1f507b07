/**
 * `replay: live_first` with a replay_rate so low that the wait for the next token is longer than a
 * Node timer can hold (2^31 - 1 ms, 24.8 days): the config takes any rate above 0, and a rate of a
 * message a month is what a metered link's operator may write to keep an old backlog from costing.
 * Node sets a longer timer to 1 ms (TimeoutOverflowWarning), so the sender used to wake every
 * millisecond, reading the outbox each time, for as long as the backlog lasted. Real parts: SQLite
 * outbox, MQTT sink, mosquitto, an independent subscriber.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { UplinkSender } from '../../src/host/outbox/uplink-sender.js';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';

const silent = pino({ level: 'silent' });
const gate = needs('mosquitto', !!mosquittoPath());
const CAPS = { default: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 24 * 3600_000, maxDeadLetters: 100 } };
/** One message a month: 2.6e9 ms between tokens, past a Node timer's 2^31 - 1 ms. */
const MONTHLY = 1 / (30 * 86_400);

let broker: MosquittoBroker;
let dir: string;
before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  dir = await mkdtemp(join(tmpdir(), 'wasmgate-slow-replay-'));
});
after(async () => {
  await broker?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a backlog paced at a message a month: the first goes, the sender then sleeps instead of waking every millisecond', gate, async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  const store = new SqliteOutbox({ file: join(dir, 'outbox.db'), caps: CAPS });
  let reads = 0;
  const pending = store.pending.bind(store);
  store.pending = (...args) => (reads++, pending(...args));
  store.append([1, 2, 3].map((n) => ({ uplink: 'cloud', topic: 'slow/replay', payload: Buffer.from(String(n)), qos: 1 as const, retain: false, createdAtMs: Date.now() })));
  const sub = await subscribe(broker.url, 'slow/replay');
  const sink = new MqttSink({ name: 'cloud', url: broker.url, clientId: 'slow-replay', qos: 1, keepaliveMs: 5_000, reconnect: { minMs: 50, maxMs: 200 } }, silent);
  const sender = new UplinkSender({ uplink: 'cloud', store, sink, window: 16, retryMs: 100, logger: silent, replay: { mode: 'live_first', ratePerS: MONTHLY } });
  try {
    sink.start();
    sender.start();
    const [first] = await sub.waitFor(1, 10_000);
    assert.equal(first!.payload.toString(), '1', 'the bucket starts with one token: the oldest goes');
    // Let the delivery be acknowledged and the sender look for the next token (a few turns of the loop).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const readsThen = reads;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map(String), [], 'no timer longer than Node can hold');
    assert.equal(reads, readsThen, 'no outbox reads while waiting for the next token');
    assert.equal(sub.messages.length, 1);
    assert.equal(store.stats('cloud').messages, 2, 'the other two wait in the outbox');
  } finally {
    process.off('warning', onWarning);
    await sender.stop();
    await sink.close(1_000);
    await sub.close();
    store.close();
  }
});
