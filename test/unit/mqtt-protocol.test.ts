/**
 * What the sink asks MQTT.js for per protocol version (src/host/sinks/mqtt-protocol.ts): the session
 * expiry only over MQTT 5 and only for a kept session, the will retained at QoS 1, and a fallback that
 * leaves no MQTT 5 property behind. The integration tests see the same on mosquitto's side; this pins
 * the numbers the broker does not log (the expiry interval in seconds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientOptions, fallBackTo311 } from '../../src/host/sinks/mqtt-protocol.js';
import { resolveMqttSinkOptions, type MqttSinkOptions } from '../../src/host/sinks/mqtt-options.js';
import { refusedForGood, describeReason } from '../../src/host/sinks/mqtt-reasons.js';

const base: MqttSinkOptions = {
  name: 'cloud', url: 'mqtt://127.0.0.1:1883', clientId: 'gw-1', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 500, maxMs: 30_000 },
};

test('a kept session over MQTT 5 sends its expiry in seconds; over 3.1.1 only the clean flag', () => {
  const o = resolveMqttSinkOptions({ ...base, cleanSession: false, sessionExpiryMs: 3_600_000 });
  const v5 = clientOptions(o, 5, 500);
  assert.equal(v5.clean, false);
  assert.deepEqual(v5.properties, { sessionExpiryInterval: 3_600 });
  const v4 = clientOptions(o, 4, 500);
  assert.equal(v4.clean, false);
  assert.equal(v4.properties, undefined);
});

test('without cleanSession: false the session is clean and no expiry is sent; a kept one defaults to a day', () => {
  const clean = clientOptions(resolveMqttSinkOptions(base), 5, 500);
  assert.equal(clean.clean, true);
  assert.equal(clean.properties, undefined);
  assert.deepEqual(clientOptions(resolveMqttSinkOptions({ ...base, cleanSession: false }), 5, 500).properties, { sessionExpiryInterval: 86_400 });
});

test('the status makes a retained QoS 1 will with the offline word', () => {
  const o = resolveMqttSinkOptions({ ...base, status: { topic: 'wasmgate/gw-1/status', online: 'online', offline: 'offline', stopped: 'offline' } });
  const { will } = clientOptions(o, 5, 500);
  assert.deepEqual({ ...will, payload: will?.payload.toString() }, { topic: 'wasmgate/gw-1/status', payload: 'offline', qos: 1, retain: true });
});

test('falling back to 3.1.1 drops the MQTT 5 properties', () => {
  const options = clientOptions(resolveMqttSinkOptions({ ...base, cleanSession: false }), 5, 500);
  fallBackTo311(options);
  assert.equal(options.protocolVersion, 4);
  assert.equal(options.properties, undefined);
});

test('PUBACK reason codes: 0x80 and up refuse, all but quota, rate and packet id for good', () => {
  assert.deepEqual([0x10, 0x80, 0x87, 0x90, 0x95, 0x99].map(refusedForGood), [false, true, true, true, true, true]);
  assert.deepEqual([0x91, 0x96, 0x97].map(refusedForGood), [false, false, false]);
  assert.equal(describeReason(0x87, 'PUBACK'), 'not authorized (PUBACK reason code 0x87)');
});
