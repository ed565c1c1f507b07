/**
 * Replay of a backlog to a real broker: a durable outbox (SqliteOutbox, synchronous=FULL) holding N
 * pending messages (200 k by default, 100 B payloads, QoS 1), delivered by the gateway's own sender
 * (UplinkSender, window 256 as GatewayOutbox runs it) through the MQTT sink to a local mosquitto, and
 * counted at an independent subscriber (MQTT.js, QoS 0 subscription, so the broker forwards as it
 * goes). Every seq must arrive (the payload carries it); the figure is messages/s from the sender's
 * start to the last one at the subscriber, and to the outbox being empty (every PUBACK's ack
 * committed). The broker, this process's sink and store, and the subscriber share the machine's cores.
 *
 * For what the broker and MQTT.js allow here, the same run first publishes the same messages with a
 * bare MQTT.js client (QoS 1, the same 256 outstanding, no outbox, no sink) to the same subscriber:
 * the replay's ceiling on this machine, and the ratio of the two says what the outbox costs.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/outbox-replay.bench.js [messages]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { SqliteOutbox } from '../src/host/outbox/sqlite-outbox.js';
import { UplinkSender } from '../src/host/outbox/uplink-sender.js';
import { MqttSink } from '../src/host/sinks/mqtt.js';
import type { NewMessage, OutboxCapsTable } from '../src/host/outbox/outbox-store.js';
import { mosquittoPath, startMosquitto } from '../test/support/mosquitto.js';
import { emitResult, printMachine } from './machine.js';

const MESSAGES = Number(process.argv[2] ?? 200_000);
const BATCH = 256;
const WINDOW = 256;
const PAYLOAD_BYTES = 100;
const caps: OutboxCapsTable = { default: { maxBytes: 2 ** 40, maxAgeMs: 86_400_000 * 365, maxDeadLetters: 1000 } };
const silent = pino({ level: 'silent' });

function batch(first: number, size: number): NewMessage[] {
  const now = Date.now();
  return Array.from({ length: size }, (_, i) => {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    new DataView(payload.buffer).setUint32(0, first + i, true);
    return { uplink: 'cloud', topic: `bench/line-1/point-${(first + i) % 100}`, payload, qos: 1, retain: false, createdAtMs: now };
  });
}

printMachine();
if (!mosquittoPath()) {
  console.log('mosquitto is not installed: the replay bench needs a real broker (apt-get install mosquitto)');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'wasmgate-replay-bench-'));
const broker = await startMosquitto({ quiet: true });
try {
  const file = join(dir, 'outbox.db');
  const filling = new SqliteOutbox({ file, caps });
  for (let done = 0; done < MESSAGES; done += BATCH) filling.append(batch(done + 1, Math.min(BATCH, MESSAGES - done)));
  filling.close();

  const subscriber = await connectAsync(broker.url, { clean: true, protocolVersion: 4 });
  await subscriber.subscribeAsync('bench/#', { qos: 0 });

  const bare = await bareMqttRate(broker.url, subscriber);
  emitResult(`bare MQTT.js client, QoS 1, ${WINDOW} outstanding, same messages to the same subscriber (the ceiling here)`, bare, 'msgs/s');

  const arrival = counted(subscriber);
  const store = new SqliteOutbox({ file, caps });
  const sink = new MqttSink({ name: 'cloud', url: broker.url, clientId: 'replay-bench', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 50, maxMs: 500 } }, silent);
  sink.start();
  await sink.waitConnected(10_000);
  const sender = new UplinkSender({ uplink: 'cloud', store, sink, window: WINDOW, retryMs: 1_000, logger: silent });
  const start = performance.now();
  sender.start();
  const timeout = setTimeout(() => {
    console.error(`only ${arrival.distinct()} of ${MESSAGES} arrived within 120 s; outbox ${JSON.stringify(store.stats('cloud'))}`);
    process.exit(1);
  }, 120_000);
  const lastAt = await arrival.all;
  while (store.stats('cloud').messages > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const emptyAt = performance.now();
  clearTimeout(timeout);

  emitResult(`replay of ${MESSAGES / 1000} k messages from the durable outbox to mosquitto (UplinkSender window ${WINDOW} + MqttSink QoS 1), at the subscriber`, MESSAGES / ((lastAt - start) / 1000), 'msgs/s', '>= 50 k msgs/s');
  emitResult('same, until the outbox is empty (every PUBACK acked in the store)', MESSAGES / ((emptyAt - start) / 1000), 'msgs/s');
  emitResult('replay from the outbox / bare MQTT.js', MESSAGES / ((lastAt - start) / 1000) / bare, 'x', '-> 1');
  console.log(`  sender: ${JSON.stringify(sender.counters)}; sink: ${JSON.stringify(sink.counters())}`);
  await sender.stop(1_000);
  await sink.close(1_000);
  store.close();
  await subscriber.endAsync(true);
} finally {
  await broker.dispose();
  rmSync(dir, { recursive: true, force: true });
}

/** Resolves `all` with the time the last of seqs 1..MESSAGES first arrived; payloads carry the seq (u32 LE). */
function counted(subscriber: MqttClient): { all: Promise<number>; distinct(): number } {
  const seen = new Uint8Array(MESSAGES + 1);
  let distinct = 0;
  subscriber.removeAllListeners('message');
  const all = new Promise<number>((resolve) => {
    subscriber.on('message', (_topic, payload) => {
      const seq = payload.readUInt32LE(0);
      if (seq < 1 || seq > MESSAGES || seen[seq] === 1) return;
      seen[seq] = 1;
      if (++distinct === MESSAGES) resolve(performance.now());
    });
  });
  return { all, distinct: () => distinct };
}

/** MESSAGES publishes by a bare MQTT.js client, WINDOW outstanding; messages/s at the subscriber. */
async function bareMqttRate(url: string, subscriber: MqttClient): Promise<number> {
  const arrival = counted(subscriber);
  const publisher = await connectAsync(url, { clientId: 'replay-bench-bare', protocolVersion: 4 });
  const messages = batch(1, MESSAGES);
  let next = 0;
  let outstanding = 0;
  const start = performance.now();
  const pump = (): void => {
    while (outstanding < WINDOW && next < MESSAGES) {
      const m = messages[next++]!;
      outstanding++;
      publisher.publish(m.topic, Buffer.from(m.payload), { qos: 1 }, () => {
        outstanding--;
        pump();
      });
    }
  };
  pump();
  const lastAt = await arrival.all;
  await publisher.endAsync();
  return MESSAGES / ((lastAt - start) / 1000);
}
