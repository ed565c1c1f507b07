/**
 * hostile8b: the loop check's broker identity (brokerKey). MQTT.js connects through getaddrinfo,
 * which reads IPv4 numbers as inet_aton does (127.1, 0x7f000001 and 2130706433 are all 127.0.0.1;
 * POSIX inet_addr), connects 0.0.0.0 and :: to this host (Linux), and takes a final dot as the same
 * name. An mqtt:// URL keeps these hosts as written (WHATWG URL parses IPv4 numbers for http's
 * schemes only), so before, `mqtt://127.1:1883` subscribed to the uplink's own broker unchecked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerKey } from '../../src/host/config/subscription-loop-checks.js';

test('hostile8b: every spelling of this host is the loopback broker', () => {
  for (const url of ['mqtt://127.1:1883', 'mqtt://0x7f000001:1883', 'mqtt://2130706433', 'mqtt://0177.0.0.1', 'mqtt://0.0.0.0', 'mqtt://[::]', 'mqtt://[::ffff:127.0.0.1]', 'mqtt://localhost.', 'mqtt://LOCALHOST:1883']) {
    assert.equal(brokerKey(url), 'loopback:1883', url);
  }
});

test('hostile8b: other hosts keep their identity, IPv4 numbers spelled as dotted quads', () => {
  assert.equal(brokerKey('mqtt://10.1:1883'), '10.0.0.1:1883');
  assert.equal(brokerKey('mqtt://192.168.1.10'), '192.168.1.10:1883');
  assert.equal(brokerKey('mqtt://broker.example.:8883'), 'broker.example:8883');
  assert.equal(brokerKey('mqtts://broker.example'), 'broker.example:8883');
  assert.equal(brokerKey('mqtt://1.2.3.4.5'), '1.2.3.4.5:1883');
  assert.equal(brokerKey('mqtt://256.1.1.1'), '256.1.1.1:1883');
});
