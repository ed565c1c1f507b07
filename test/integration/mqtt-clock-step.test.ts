/**
 * The MQTT uplink when the wall clock steps (NTP correcting a gateway that booted without a real-time
 * clock, an operator setting the date): deadlines must be measured on the monotonic clock, and the
 * replay flag must not call a message live because the clock went back. The step is made in this
 * process by moving `Date.now` (what the sink reads for wall time); the broker is a real mosquitto,
 * reached through a relay that can refuse connections or stall (keep the connection, drop what the
 * broker says), as a dead 4G link does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { relayTo, type TcpRelay } from '../support/tcp-relay.js';
import { needs } from '../support/tools.js';

const STEP_MS = 10_000;
/** How far the clock steps back: an hour, as a time zone mistake corrected would. */
const STEP_BACK_MS = 3_600_000;
const gate = needs('mosquitto', !!mosquittoPath());

let mosquitto: MosquittoBroker;
const realNow = Date.now;

before(async () => {
  if (gate.skip) return;
  mosquitto = await startMosquitto();
});

after(async () => {
  Date.now = realNow;
  await mosquitto?.dispose();
});

async function sinkThrough(relay: TcpRelay): Promise<MqttSink> {
  return mqttSinkFor([`      url: ${relay.url}`, `      client_id: step-${randomUUID().slice(0, 8)}`, '      qos: 1', '      reconnect: { min: 50ms, max: 200ms }']);
}

test('a stop with the broker stalled ends at its timeout even when the wall clock steps back during it', gate, async () => {
  const relay = await relayTo(mosquitto.port);
  const sink = await sinkThrough(relay);
  try {
    sink.start();
    await sink.waitConnected(STEP_MS);
    relay.stall = true; // the PUBACK never comes back
    const unacked = sink.publish(`step/${randomUUID()}`, '{"v":1}', { stamp: { seq: 1, createdAtMs: realNow() } }).catch((e: unknown) => e);
    const closeTimeoutMs = 200;
    const closed = sink.close(closeTimeoutMs).then(() => 'closed');
    Date.now = () => realNow() - STEP_BACK_MS;
    // The guard is a hundred times the stop's timeout; a deadline on the wall clock waits out the hour.
    const guard = new Promise<string>((resolve) => setTimeout(() => resolve('still stopping'), closeTimeoutMs * 100).unref());
    assert.equal(await Promise.race([closed, guard]), 'closed', 'the stop waits for the acknowledgement by the monotonic clock, not the stepped wall clock');
    assert.ok(await unacked instanceof Error, 'the unacknowledged message is failed back to its sender (which keeps it in the outbox)');
  } finally {
    Date.now = realNow;
    await sink.close(500);
    await relay.close();
  }
});

test('a message that waited through an outage is marked as a replay even when the wall clock stepped back before the link returned', gate, async () => {
  const relay = await relayTo(mosquitto.port);
  relay.refuse = true; // the link is down
  const topic = `step/${randomUUID()}`;
  const sub = await subscribe(mosquitto.url, topic, { protocolVersion: 5 });
  const sink = await sinkThrough(relay);
  try {
    sink.start();
    // Made while the link is down: it waits, with the sink, for the connection.
    const sent = sink.publish(topic, '{"v":1}', { stamp: { seq: 1, createdAtMs: realNow() } });
    Date.now = () => realNow() - STEP_BACK_MS; // NTP steps the clock back an hour during the outage
    relay.refuse = false;
    await sent;
    const [got] = await sub.waitFor(1, STEP_MS);
    assert.deepEqual(got!.userProperties, { seq: '1', replay: 'true' }, 'it waited through the outage: a replay');
  } finally {
    Date.now = realNow;
    await sub.close();
    await sink.close(500);
    await relay.close();
  }
});
