/**
 * The PUBLISH packet size the MQTT sink checks against a broker's Maximum Packet Size
 * (src/host/sinks/mqtt-packet-size.ts), against the bytes mqtt-packet (MQTT.js's own encoder, another
 * implementation) writes for the same packet, across the remaining-length varint's boundaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { publishPacketBytes } from '../../src/host/sinks/mqtt-packet-size.js';

function encoded(topic: string, payloadBytes: number, qos: 0 | 1, version: 4 | 5, properties?: Record<string, unknown>): number {
  const packet = { cmd: 'publish' as const, topic, payload: Buffer.alloc(payloadBytes), qos, retain: false, dup: false, ...(qos > 0 ? { messageId: 7 } : {}), ...(properties ? { properties } : {}) };
  return mqttPacket.generate(packet as mqttPacket.IPublishPacket, { protocolVersion: version }).length;
}

test('3.1.1: topic, packet id and payload, across 1-, 2- and 3-byte remaining lengths', () => {
  // By hand for the first: 1 (type) + 1 (length 17) + 2 + 3 ("a/b") + 2 (id) + 10 = 19.
  assert.equal(publishPacketBytes({ topic: 'a/b', payloadBytes: 10, qos: 1, v5: false }), 19);
  for (const payloadBytes of [0, 10, 120, 121, 122, 16_370, 16_377, 16_378, 20_000]) {
    for (const qos of [0, 1] as const) {
      assert.equal(publishPacketBytes({ topic: 'plant/boiler', payloadBytes, qos, v5: false }), encoded('plant/boiler', payloadBytes, qos, 4), `${payloadBytes} B, QoS ${qos}`);
    }
  }
});

test('MQTT 5: the property length, message expiry and user properties (UTF-8 counted in bytes)', () => {
  assert.equal(publishPacketBytes({ topic: 't', payloadBytes: 5, qos: 1, v5: true }), encoded('t', 5, 1, 5));
  const userProperties = { seq: '123456', replay: 'true', 'ключ': 'значение' };
  for (const payloadBytes of [0, 100, 2_000]) {
    assert.equal(
      publishPacketBytes({ topic: 'plant/°C', payloadBytes, qos: 1, v5: true, properties: { messageExpiryInterval: 60, userProperties } }),
      encoded('plant/°C', payloadBytes, 1, 5, { messageExpiryInterval: 60, userProperties }),
      `${payloadBytes} B`,
    );
  }
});
