/**
 * Packet ids shared by the sink's data path and MQTT.js (src/host/sinks/packet-ids.ts): never the same
 * id to both while one holds it, MQTT.js's `clear` at a CONNACK forgets only its own, and ids run out
 * only when all 65,535 (MQTT 5 §2.2.1: 1 to 65,535) are held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketIds } from '../../src/host/sinks/packet-ids.js';

test('the sink and MQTT.js never hold the same id, across the wrap from 65,535 to 1', () => {
  const ids = new PacketIds();
  const held = new Set<number>();
  for (let i = 0; i < 70_000; i++) {
    const id = i % 2 === 0 ? ids.take()! : ids.allocate()!;
    assert.ok(id >= 1 && id <= 65_535);
    assert.ok(!held.has(id), `id ${id} given twice`);
    held.add(id);
    // Keep about 100 held: release the oldest.
    if (held.size > 100) {
      const oldest = held.values().next().value!;
      held.delete(oldest);
      ids.release(oldest);
      ids.deallocate(oldest);
    }
  }
});

test('clear (MQTT.js, at every CONNACK) forgets MQTT.js ids only; register refuses an id the sink holds', () => {
  const ids = new PacketIds();
  const ours = ids.take()!;
  const theirs = ids.allocate()!;
  ids.clear();
  assert.equal(ids.register(ours), false);
  assert.equal(ids.register(theirs), true);
  assert.equal(ids.held, 1);
  assert.equal(ids.getLastAllocated(), theirs);
});

test('all 65,535 held: no id for either until one is released', () => {
  const ids = new PacketIds();
  for (let i = 0; i < 65_535; i++) assert.notEqual(ids.take(), undefined);
  assert.equal(ids.take(), undefined);
  assert.equal(ids.allocate(), null);
  ids.release(4_242);
  assert.equal(ids.allocate(), 4_242);
});
