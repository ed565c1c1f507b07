/**
 * User name and password from a file or from an environment variable, against Debian's mosquitto with
 * a password file made by mosquitto_passwd: the right password connects, a wrong one is refused with
 * the broker's CONNACK reason named, over MQTT 5 and over 3.1.1. Each uplink is built from a gateway
 * file by the real loader and uplink kind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWgError } from '../../src/host/errors.js';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { needs } from '../support/tools.js';

const STEP_MS = 10_000;
const gate = needs('mosquitto', !!mosquittoPath());
const ENV = 'WASMGATE_TEST_BROKER_PASSWORD';

let broker: MosquittoBroker;
let dir: string;
const sinks: MqttSink[] = [];

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto({ users: { gateway: 'correct horse' } });
  dir = mkdtempSync(join(tmpdir(), 'wasmgate-credentials-'));
});

after(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close(1_000)));
  await broker?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  delete process.env[ENV];
});

async function sinkWith(lines: string[]): Promise<MqttSink> {
  const sink = await mqttSinkFor([`      url: ${broker.url}`, `      client_id: cred-${randomUUID().slice(0, 8)}`, '      username: gateway',
    '      reconnect: { min: 50ms, max: 500ms }', ...lines]);
  sinks.push(sink);
  sink.start();
  return sink;
}

test('password_file: the file\'s content, its trailing newline removed, is the password', gate, async () => {
  const file = join(dir, 'password');
  writeFileSync(file, 'correct horse\n');
  const sink = await sinkWith([`      password_file: ${file}`]);
  await sink.waitConnected(STEP_MS);
});

test('password_env: the variable\'s value at load is the password', gate, async () => {
  process.env[ENV] = 'correct horse';
  const sink = await sinkWith([`      password_env: ${ENV}`]);
  delete process.env[ENV]; // read at load, not later
  await sink.waitConnected(STEP_MS);
});

for (const protocol of ['5', '3.1.1'] as const) {
  test(`a wrong password from the environment is refused over MQTT ${protocol}, the CONNACK reason code named`, gate, async () => {
    process.env[ENV] = 'battery staple';
    const sink = await sinkWith([`      password_env: ${ENV}`, `      protocol: "${protocol}"`]);
    const error = await sink.waitConnected(STEP_MS).then(() => assert.fail('connected'), (e: unknown) => e);
    assert.ok(isWgError(error, 'WG_ERR_UPLINK_CONNECT'), String(error));
    // mosquitto answers a wrong password with "not authorized": MQTT 5 reason code 0x87, MQTT 3.1.1 return code 5.
    const expected = protocol === '5'
      ? /the broker refused the connection: not authorized \(CONNACK reason code 0x87\)/
      : /the broker refused the connection: not authorized \(CONNACK reason code 0x05\)/;
    assert.match(error.message, expected);
  });
}
