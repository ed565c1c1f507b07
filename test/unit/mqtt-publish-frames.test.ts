/**
 * The PUBLISH packets the MQTT sink writes itself (src/host/sinks/mqtt-publish-frames.ts), against
 * mqtt-packet (MQTT.js's own encoder and parser, another implementation): the same bytes for the same
 * packet across the remaining-length varint's boundaries, both protocol versions, the flags, message
 * expiry and user properties (UTF-8 counted in bytes); and the slab's order across chunk boundaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { publishBytes, PublishSlab, type PublishFields } from '../../src/host/sinks/mqtt-publish-frames.js';

function reference(f: PublishFields): Buffer {
  const packet = {
    cmd: 'publish' as const,
    topic: f.topic,
    payload: typeof f.payload === 'string' ? Buffer.from(f.payload) : f.payload,
    qos: f.qos,
    retain: f.retain,
    dup: f.dup,
    ...(f.qos > 0 ? { messageId: f.packetId } : {}),
    ...(f.properties ? { properties: f.properties } : {}),
  };
  return mqttPacket.generate(packet as mqttPacket.IPublishPacket, { protocolVersion: f.v5 ? 5 : 4 });
}

function encoded(f: PublishFields): Buffer {
  const slab = new PublishSlab();
  const size = slab.append(f);
  const bytes = Buffer.concat(slab.take());
  assert.equal(size, bytes.length, 'append returns the size it wrote');
  return bytes;
}

function fields(over: Partial<PublishFields>): PublishFields {
  return { topic: 'plant/boiler', payload: 'x', qos: 1, retain: false, dup: false, packetId: 7, v5: false, ...over };
}

test('3.1.1: the size by hand, and the bytes mqtt-packet writes, across 1-, 2- and 3-byte remaining lengths', () => {
  // By hand: 1 (type) + 1 (length 17) + 2 + 3 ("a/b") + 2 (id) + 10 = 19.
  assert.equal(publishBytes(fields({ topic: 'a/b', payload: Buffer.alloc(10) })), 19);
  for (const payloadBytes of [0, 10, 120, 121, 122, 16_370, 16_377, 16_378, 20_000, 70_000]) {
    for (const qos of [0, 1] as const) {
      const f = fields({ payload: Buffer.alloc(payloadBytes, 0x61), qos });
      const want = reference(f);
      assert.equal(publishBytes(f), want.length, `${payloadBytes} B, QoS ${qos}`);
      assert.deepEqual(encoded(f), want, `${payloadBytes} B, QoS ${qos}`);
    }
  }
});

test('the fixed header flags: dup, QoS and retain, as mqtt-packet sets them', () => {
  for (const dup of [false, true]) {
    for (const retain of [false, true]) {
      for (const qos of [0, 1] as const) {
        if (dup && qos === 0) continue; // DUP is 0 for every QoS 0 message (MQTT 5 §3.3.1.1)
        const f = fields({ dup, retain, qos, packetId: 65_535 });
        assert.deepEqual(encoded(f), reference(f), `dup ${dup} retain ${retain} qos ${qos}`);
      }
    }
  }
  // By hand: PUBLISH 0x30 | DUP 0x08 | QoS 1 0x02 | RETAIN 0x01.
  assert.equal(encoded(fields({ dup: true, retain: true }))[0], 0x3b);
});

test('MQTT 5: the property length, message expiry and user properties (UTF-8 counted in bytes), string payloads', () => {
  const userProperties = { seq: '123456', replay: 'true', 'ключ': 'значение' };
  for (const payload of ['', '{"v":21.5,"unit":"°C"}', Buffer.alloc(2_000, 1), Buffer.alloc(16_300, 2)]) {
    for (const properties of [undefined, { messageExpiryInterval: 60 }, { userProperties }, { messageExpiryInterval: 4_294_967_295, userProperties }]) {
      const f = fields({ topic: 'plant/°C', payload, v5: true, ...(properties && { properties }) });
      const want = reference(f);
      assert.equal(publishBytes(f), want.length);
      assert.deepEqual(encoded(f), want, `${JSON.stringify(properties)} ${payload.length} B`);
    }
  }
});

test('mqtt-packet parses a slab of many packets back into the same messages, in order, across slabs', () => {
  const slab = new PublishSlab();
  const sent: PublishFields[] = [];
  // 3,000 packets of about 60 B and some of 40 KB: several 64 KiB slabs, and packets larger than the room left.
  for (let i = 0; i < 3_000; i++) {
    const f = fields({ topic: `h/dev${i % 10}/r${i}`, payload: i % 500 === 0 ? Buffer.alloc(40_000, i % 256) : `{"v":${i}}`, packetId: 1 + (i % 65_535), v5: true, properties: { userProperties: { seq: String(i) } } });
    slab.append(f);
    sent.push(f);
    if (i % 700 === 0) assert.ok(slab.pending);
  }
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const got: mqttPacket.IPublishPacket[] = [];
  parser.on('packet', (p) => got.push(p as mqttPacket.IPublishPacket));
  parser.on('error', (e) => assert.fail(e));
  for (const chunk of slab.take()) parser.parse(chunk);
  assert.equal(slab.pending, false);
  assert.equal(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) {
    assert.equal(got[i]!.topic, sent[i]!.topic);
    assert.equal(got[i]!.messageId, sent[i]!.packetId);
    assert.deepEqual(Buffer.from(got[i]!.payload as Buffer), Buffer.from(sent[i]!.payload as string | Buffer));
    assert.deepEqual({ ...got[i]!.properties?.userProperties }, { seq: String(i) });
  }
});

test('bytes taken are never written over, and discard forgets only what was not taken', () => {
  const slab = new PublishSlab();
  slab.append(fields({ payload: 'first' }));
  const [first] = slab.take();
  const copy = Buffer.from(first!);
  for (let i = 0; i < 2_000; i++) slab.append(fields({ payload: `more ${i}` }));
  slab.discard();
  assert.equal(slab.pending, false);
  assert.deepEqual(first, copy);
  slab.append(fields({ payload: 'after' }));
  assert.deepEqual(Buffer.concat(slab.take()), reference(fields({ payload: 'after' })));
});
