/**
 * MQTT 5 where the broker speaks it. Debian's mosquitto speaks 5 and 3.1.1; aedes speaks only 3.1.1
 * and answers a version 5 CONNECT with return code 1, so it is the broker `protocol: auto` falls back
 * on. What went over the wire is read by an independent MQTT 5 subscriber (a plain MQTT.js client)
 * and by mosquitto's own log of each CONNECT; each uplink is built from a gateway file by the real
 * loader and uplink kind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isWgError } from '../../src/host/errors.js';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { UplinkSender } from '../../src/host/outbox/uplink-sender.js';

const STEP_MS = 10_000;
const gate = needs('mosquitto', !!mosquittoPath());
const USER = { username: 'gateway', password: 'pw' };

let mosquitto: MosquittoBroker;
/** mosquitto with an ACL: user gateway may write under allowed/ only. */
let guarded: MosquittoBroker;
let aedes: TestBroker;
const sinks: MqttSink[] = [];

before(async () => {
  aedes = await startAedes();
  if (gate.skip) return;
  mosquitto = await startMosquitto();
  guarded = await startMosquitto({ users: { [USER.username]: USER.password }, acl: [`user ${USER.username}`, 'topic readwrite allowed/#'] });
});

after(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close(1_000)));
  await mosquitto?.dispose();
  await guarded?.dispose();
  await aedes.dispose();
});

async function connected(url: string, lines: string[] = []): Promise<{ sink: MqttSink; clientId: string }> {
  const clientId = `v5-${randomUUID().slice(0, 8)}`;
  const sink = await mqttSinkFor([`      url: ${url}`, `      client_id: ${clientId}`, '      qos: 1', '      reconnect: { min: 50ms, max: 500ms }', ...lines]);
  sinks.push(sink);
  sink.start();
  await sink.waitConnected(STEP_MS);
  return { sink, clientId };
}

test('protocol auto on mosquitto: MQTT 5; seq and replay go as user properties and the payload is untouched', gate, async () => {
  const topic = `v5/${randomUUID()}`;
  const sub = await subscribe(mosquitto.url, topic, { protocolVersion: 5 });
  try {
    const before = Date.now() - 1_000;
    const { sink, clientId } = await connected(mosquitto.url);
    assert.equal(sink.protocol, '5');
    await mosquitto.waitForLog(new RegExp(`New client connected from \\S+ as ${clientId} \\(p5, c1, k30\\)`));
    // The outbox's verdict (a backlog message) travels in the stamp; the sink writes it as the property.
    await sink.publish(topic, '{"v":1}', { stamp: { seq: 41, createdAtMs: before, replay: true } });
    await sink.publish(topic, '{"v":2}', { stamp: { seq: 42, createdAtMs: Date.now() } });
    const got = await sub.waitFor(2, STEP_MS);
    assert.deepEqual(got.map((m) => [m.payload.toString(), m.userProperties]), [
      ['{"v":1}', { seq: '41', replay: 'true' }],
      ['{"v":2}', { seq: '42' }],
    ]);
    assert.deepEqual({ ...sink.counters(), reconnects: 0 }, { published: 2, acked: 2, failed: 0, reconnects: 0, queued: 0, unmarked: 0, replayed: 1 });
  } finally {
    await sub.close();
  }
});

test('protocol auto on a broker that speaks only 3.1.1 (aedes): falls back at once, and mark auto writes the seq into the JSON', async () => {
  const topic = `v311/${randomUUID()}`;
  const sub = await subscribe(aedes.url, topic);
  try {
    const { sink } = await connected(aedes.url);
    assert.equal(sink.protocol, '3.1.1');
    await sink.publish(topic, '{"v":1}', { stamp: { seq: 7, createdAtMs: Date.now() } });
    assert.deepEqual((await sub.waitFor(1, STEP_MS)).map((m) => m.payload.toString()), ['{"seq":7,"v":1}']);
    // The refused MQTT 5 attempt is not a reconnection: the fallback goes at once.
    assert.equal(sink.counters().reconnects, 0);
  } finally {
    await sub.close();
  }
});

test('protocol "5" on a broker that speaks only 3.1.1 is refused, saying so', async () => {
  const sink = await mqttSinkFor([`      url: ${aedes.url}`, '      protocol: 5', '      reconnect: { min: 50ms, max: 500ms }']);
  sinks.push(sink);
  sink.start();
  const error = await sink.waitConnected(STEP_MS).then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(isWgError(error, 'WG_ERR_UPLINK_CONNECT'), String(error));
  assert.match(error.message, /unacceptable protocol version \(CONNACK reason code 0x01\); the broker does not speak MQTT 5: set protocol to auto or "3\.1\.1"/);
});

test('mark: properties on a connection that fell back to 3.1.1: the payload goes unmarked, and counted', async () => {
  const topic = `unmarked/${randomUUID()}`;
  const sub = await subscribe(aedes.url, topic);
  try {
    const { sink } = await connected(aedes.url, ['      outbox: { mark: properties }']);
    await sink.publish(topic, '{"v":1}', { stamp: { seq: 9, createdAtMs: Date.now() } });
    assert.deepEqual((await sub.waitFor(1, STEP_MS)).map((m) => m.payload.toString()), ['{"v":1}']);
    assert.equal(sink.counters().unmarked, 1);
  } finally {
    await sub.close();
  }
});

test('message_expiry: the broker gets the time left, counted from when the message was made', gate, async () => {
  const topic = `expiry/${randomUUID()}`;
  const sub = await subscribe(mosquitto.url, topic, { protocolVersion: 5 });
  try {
    const { sink } = await connected(mosquitto.url, ['      message_expiry: 1h']);
    await sink.publish(topic, 'fresh');
    await sink.publish(topic, 'waited ten minutes', { stamp: { seq: 1, createdAtMs: Date.now() - 600_000 } });
    const [fresh, waited] = await sub.waitFor(2, STEP_MS);
    // mosquitto forwards the interval less the whole seconds it held the message: 0 here, or 1 across a second's edge.
    assert.ok(fresh!.messageExpiryInterval! <= 3_600 && fresh!.messageExpiryInterval! >= 3_599, `fresh: ${fresh!.messageExpiryInterval}`);
    assert.ok(waited!.messageExpiryInterval! <= 3_000 && waited!.messageExpiryInterval! >= 2_999, `waited: ${waited!.messageExpiryInterval}`);
  } finally {
    await sub.close();
  }
});

test('a PUBACK refusing the message (not authorized by the ACL) rejects it with WG_ERR_UPLINK_REFUSED, the reason code named', gate, async () => {
  const { sink } = await connected(guarded.url, [`      username: ${USER.username}`, `      password: ${USER.password}`, '      protocol: 5']);
  const error = await sink.publish('denied/x', 'not for you').then(() => assert.fail('acknowledged'), (e: unknown) => e);
  assert.ok(isWgError(error, 'WG_ERR_UPLINK_REFUSED'), String(error));
  assert.equal(error.context.uplink, 'cloud');
  assert.equal(error.context.reasonCode, 0x87);
  assert.match(error.message, /refused the message for good: denied\/x: not authorized \(PUBACK reason code 0x87\)/);
  await sink.publish('allowed/x', 'fine'); // the connection is still good
  assert.deepEqual({ ...sink.counters(), reconnects: 0 }, { published: 2, acked: 1, failed: 1, reconnects: 0, queued: 0, unmarked: 0, replayed: 0 });
});

test('through the outbox: the refused message is dead-lettered once, the ones around it delivered', gate, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-v5-dead-'));
  const store = new SqliteOutbox({ file: join(dir, 'outbox.db'), caps: { default: { maxBytes: 1 << 20, maxAgeMs: 3_600_000, maxDeadLetters: 10 } } });
  const { sink } = await connected(guarded.url, [`      username: ${USER.username}`, `      password: ${USER.password}`]);
  const sender = new UplinkSender({ uplink: 'cloud', store, sink, window: 1, retryMs: 100, logger: pino({ level: 'silent' }) });
  sender.start();
  try {
    const at = Date.now();
    store.append(['allowed/a', 'denied/b', 'allowed/c'].map((topic) => ({ uplink: 'cloud', topic, payload: Buffer.from('{}'), qos: 1 as const, retain: false, createdAtMs: at })));
    sender.wake();
    await waitFor(() => sender.counters.delivered + sender.counters.deadLettered === 3, STEP_MS, () => JSON.stringify(sender.counters));
    assert.deepEqual(sender.counters, { sent: 3, delivered: 2, deadLettered: 1, failed: 0 });
    const dead = store.deadLetters('cloud', 10);
    assert.equal(dead.length, 1);
    assert.match(dead[0]!.reason, /denied\/b: not authorized \(PUBACK reason code 0x87\)/);
  } finally {
    await sender.stop();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('over 3.1.1 the same broker cannot refuse a message: mosquitto drops it and acknowledges it', gate, async () => {
  // Why the dead letters need MQTT 5: a PUBACK of 3.1.1 carries no reason code.
  const { sink } = await connected(guarded.url, [`      username: ${USER.username}`, `      password: ${USER.password}`, '      protocol: 3.1.1']);
  await sink.publish('denied/x', 'dropped silently');
  assert.equal(sink.counters().acked, 1);
});
