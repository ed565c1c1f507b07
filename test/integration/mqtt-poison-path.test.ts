/**
 * The poison pattern (src/host/sinks/poison-watch.ts) against a path that closes the connection at
 * every PUBLISH, whatever the message: a middlebox or a 4G operator's proxy that resets connections
 * carrying data, or a broker in trouble. Over MQTT 3.1.1 that looks exactly like a broker refusing one
 * message by disconnecting, and the sink dead-letters the oldest unacknowledged message after three
 * such closes; then the next, and the next. Good readings go to the dead letters, never to be sent
 * again, for as long as the path misbehaves. Real mosquitto behind a relay (test/support/tcp-relay.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { relayTo } from '../support/tcp-relay.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const gate = needs('mosquitto', !!mosquittoPath());
let broker: MosquittoBroker;
before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
});
after(() => broker?.dispose());

test('a path that cuts every PUBLISH for a while does not send two good messages to the dead letters', {
  ...gate,
  todo: 'Over 3.1.1 the sink cannot tell "this message is refused" from "every message is refused"; it dead-letters one message '
    + 'per three closes, all good ones. What the design could do: when a second, different message fits the pattern with '
    + 'nothing acknowledged in between, take it as the path, not the messages: stop refusing (report it, keep the back-off), '
    + 'and give the one refused before a second chance once something is acknowledged. A design question for poison-watch.ts.',
}, async () => {
  const relay = await relayTo(broker.port);
  const topic = `poison-path/${randomUUID().slice(0, 8)}`;
  const sub = await subscribe(broker.url, topic);
  const sink = await mqttSinkFor([`      url: ${relay.url}`, `      client_id: path-${randomUUID().slice(0, 8)}`, '      qos: 1', '      protocol: 3.1.1',
    '      reconnect: { min: 50ms, max: 200ms }', '      outbox: { mark: none }']);
  try {
    sink.start();
    await sink.waitConnected(10_000);
    relay.cutOnPublish = true;
    const outcomes = ['first', 'second'].map((payload) => sink.publish(topic, payload).then(() => 'delivered', (e: { code?: string }) => e.code ?? String(e)));
    // Two messages' worth of the pattern (three closes each), then the path behaves again.
    await waitFor(() => relay.cuts >= 6, 20_000, () => `${relay.cuts} cuts`);
    relay.cutOnPublish = false;
    assert.deepEqual(await Promise.all(outcomes), ['delivered', 'delivered'], 'good messages are delivered once the path carries them');
    await sub.waitFor(2, 10_000);
  } finally {
    relay.cutOnPublish = false;
    await sink.close(1_000);
    await sub.close();
    await relay.close();
  }
});
