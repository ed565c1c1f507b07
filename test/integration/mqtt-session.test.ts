/**
 * Persistent sessions against Debian's mosquitto. What this proves, and no more: with clean_session:
 * false the CONNECT asks for a kept session (mosquitto's log shows the clean flag as it received it,
 * c0 or c1) and the broker keeps it after the gateway disconnects, over 3.1.1 and over MQTT 5 with a
 * session expiry, across a broker restart too. A probe connecting afterwards with the same client id
 * is told whether a session was there (CONNACK session present). For a gateway, which only publishes,
 * a kept session holds no messages: what it was sent and not acknowledged is resent from the outbox
 * on reconnection whatever the session (the sink contract's outage test).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type IConnackPacket } from 'mqtt';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { needs } from '../support/tools.js';

const STEP_MS = 10_000;
const gate = needs('mosquitto', !!mosquittoPath());

let broker: MosquittoBroker;
before(async () => {
  if (!gate.skip) broker = await startMosquitto();
});
after(async () => {
  await broker?.dispose();
});

/** Connects with `lines`, then closes cleanly: what the broker keeps of the session is what is left. */
async function connectAndLeave(lines: string[]): Promise<string> {
  const clientId = `session-${randomUUID().slice(0, 8)}`;
  const sink = await mqttSinkFor([`      url: ${broker.url}`, `      client_id: ${clientId}`, '      status: { topic: false }', ...lines]);
  sink.start();
  try {
    await sink.waitConnected(STEP_MS);
  } finally {
    await sink.close(STEP_MS);
  }
  return clientId;
}

/** Whether the broker still holds a session for `clientId` (and ends it: the probe's own session is not kept). */
async function sessionPresent(clientId: string, protocolVersion: 4 | 5): Promise<boolean> {
  const probe = connect(broker.url, { clientId, clean: false, protocolVersion, reconnectPeriod: 0 });
  try {
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      probe.once('connect', resolve);
      probe.once('error', reject);
    });
    return connack.sessionPresent;
  } finally {
    await probe.endAsync();
  }
}

const connectLine = (clientId: string) => new RegExp(`New client connected from \\S+ as ${clientId} \\((p\\d), (c\\d), k\\d+\\)`);

test('by default the session is clean: nothing is kept', gate, async () => {
  const clientId = await connectAndLeave([]);
  assert.deepEqual((await broker.waitForLog(connectLine(clientId))).slice(1), ['p5', 'c1']);
  assert.equal(await sessionPresent(clientId, 5), false);
});

test('clean_session: false over 3.1.1: the broker keeps the session after the gateway left', gate, async () => {
  const clientId = await connectAndLeave(['      protocol: 3.1.1', '      clean_session: false']);
  // mosquitto numbers 3.1.1 as its protocol 2 (3.1 is 1, 5 is 5).
  assert.deepEqual((await broker.waitForLog(connectLine(clientId))).slice(1), ['p2', 'c0']);
  assert.equal(await sessionPresent(clientId, 4), true);
});

test('clean_session: false over MQTT 5 with session_expiry: kept after the gateway left, and across a broker restart', gate, async () => {
  const clientId = await connectAndLeave(['      clean_session: false', '      session_expiry: 1h']);
  assert.deepEqual((await broker.waitForLog(connectLine(clientId))).slice(1), ['p5', 'c0']);
  // With a session expiry of 0 (what MQTT 5 assumes when none is sent) the session would end at the disconnect.
  await broker.stop();
  await broker.start();
  assert.equal(await sessionPresent(clientId, 5), true);
});
