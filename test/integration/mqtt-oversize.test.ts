/**
 * A message the broker refuses by disconnecting, not by a reason code, must not hold the uplink in a
 * reconnect loop. mosquitto with `max_packet_size` disconnects a client that sends a larger packet,
 * over either protocol. Over MQTT 5 it announces the limit in its CONNACK, so the sink refuses the
 * message before sending it; over 3.1.1 the sink tells it by the pattern (poison-watch.ts): the
 * broker closing the connection soon after each reconnect, the same message unacknowledged. Either
 * way the outbox dead-letters it and the messages around it are delivered, as an independent
 * subscriber sees. Each uplink is built from a gateway file by the real loader and uplink kind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { UplinkSender } from '../../src/host/outbox/uplink-sender.js';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const gate = needs('mosquitto', !!mosquittoPath());
/** Bytes of the whole PUBLISH packet mosquitto takes. */
const LIMIT = 1024;

let broker: MosquittoBroker;
before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto({ maxPacketSize: LIMIT });
});
after(() => broker?.dispose());

async function throughTheOutbox(protocolLines: string[]): Promise<{ sink: MqttSink; sender: UplinkSender; store: SqliteOutbox; received: string[]; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-oversize-'));
  const topic = `oversize/${randomUUID().slice(0, 8)}`;
  const sub = await subscribe(broker.url, `${topic}/#`);
  const sink = await mqttSinkFor([`      url: ${broker.url}`, `      client_id: oversize-${randomUUID().slice(0, 8)}`, '      qos: 1', '      reconnect: { min: 50ms, max: 200ms }', '      outbox: { mark: none }', ...protocolLines]);
  sink.start();
  await sink.waitConnected(10_000);
  const store = new SqliteOutbox({ file: join(dir, 'outbox.db'), caps: { default: { maxBytes: 1 << 20, maxAgeMs: 3_600_000, maxDeadLetters: 10 } } });
  const sender = new UplinkSender({ uplink: 'cloud', store, sink, window: 16, retryMs: 100, logger: pino({ level: 'silent' }) });
  sender.start();
  const at = Date.now();
  store.append([
    { uplink: 'cloud', topic: `${topic}/a`, payload: Buffer.from('small before'), qos: 1, retain: false, createdAtMs: at },
    { uplink: 'cloud', topic: `${topic}/big`, payload: Buffer.alloc(3 * LIMIT, 0x78), qos: 1, retain: false, createdAtMs: at },
    { uplink: 'cloud', topic: `${topic}/c`, payload: Buffer.from('small after'), qos: 1, retain: false, createdAtMs: at },
  ]);
  sender.wake();
  return {
    sink, sender, store,
    get received() {
      return [...new Set(sub.messages.map((m) => m.topic.slice(topic.length + 1)))];
    },
    async done() {
      await sender.stop();
      await sink.close();
      store.close();
      await sub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('MQTT 5: a message over the broker\'s announced maximum packet size is dead-lettered before it is sent; no reconnect', gate, async () => {
  const run = await throughTheOutbox([]);
  try {
    await waitFor(() => run.sender.counters.delivered + run.sender.counters.deadLettered === 3, 15_000, () => JSON.stringify(run.sender.counters));
    await waitFor(() => run.received.length === 2, 5_000, () => JSON.stringify(run.received));
    assert.deepEqual(run.received.sort(), ['a', 'c']);
    const [dead] = run.store.deadLetters('cloud', 10);
    assert.match(dead!.reason, /over the 1024 bytes the broker accepts \(CONNACK Maximum Packet Size\)/);
    assert.equal(run.sink.counters().reconnects, 0, 'the broker never had to disconnect us');
    assert.equal(run.store.stats('cloud').messages, 0);
  } finally {
    await run.done();
  }
});

test('MQTT 3.1.1: the broker disconnecting at the same message each time gets it dead-lettered after three closes, not a reconnect loop', gate, async () => {
  const run = await throughTheOutbox(['      protocol: "3.1.1"']);
  try {
    await waitFor(() => run.sender.counters.delivered + run.sender.counters.deadLettered === 3, 20_000, () => `${JSON.stringify(run.sender.counters)} ${JSON.stringify(run.sink.counters())}`);
    await waitFor(() => run.received.length === 2, 5_000, () => JSON.stringify(run.received));
    assert.deepEqual(run.received.sort(), ['a', 'c']);
    const [dead] = run.store.deadLetters('cloud', 10);
    assert.equal(dead!.topic.endsWith('/big'), true);
    assert.match(dead!.reason, /closed the connection 3 times in a row/);
    // The first connection acknowledged "a" before the broker closed it, so it does not count: three
    // more closes make the pattern. A reconnect loop would go on; this stops there.
    const { reconnects } = run.sink.counters();
    assert.ok(reconnects >= 3 && reconnects <= 5, `${reconnects} reconnects`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(run.sink.counters().reconnects, reconnects, 'no reconnects once the message is out of the way');
    assert.equal(run.sink.state, 'connected');
  } finally {
    await run.done();
  }
});
