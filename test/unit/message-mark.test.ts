/**
 * How a message carries its seq and replay flag (src/host/sinks/message-mark.ts). The marked payloads
 * are checked byte for byte against text written here by hand, and parsed back with JSON.parse, an
 * independent parser, to the object the consumer sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReplay, markFields, markProperties } from '../../src/host/sinks/message-mark.js';

const stamp = { seq: 7, createdAtMs: 1_000 };
const marked = (payload: string, replay = false) => markFields(Buffer.from(payload), stamp, replay)?.toString();

test('fields: seq goes first in the object, the encoder\'s members follow unchanged', () => {
  assert.equal(marked('{"point":"level","value":1.5}'), '{"seq":7,"point":"level","value":1.5}');
  assert.deepEqual(JSON.parse(marked('{"point":"level","value":1.5}')!), { seq: 7, point: 'level', value: 1.5 });
});

test('fields: a replay also gets "replay":true; a live message gets no replay member at all', () => {
  assert.equal(marked('{"v":1}', true), '{"seq":7,"replay":true,"v":1}');
  assert.equal(JSON.parse(marked('{"v":1}', false)!).replay, undefined);
});

test('fields: an empty object and one with spaces around and inside get no stray comma', () => {
  assert.equal(marked('{}'), '{"seq":7}');
  assert.equal(marked(' \n{ \t}\r\n', true), ' \n{"seq":7,"replay":true \t}\r\n');
  assert.deepEqual(JSON.parse(marked(' \n{ \t}\r\n', true)!), { seq: 7, replay: true });
  assert.deepEqual(JSON.parse(marked('{ "a" : [1, {"b": 2}] }')!), { seq: 7, a: [1, { b: 2 }] });
});

test('fields: what is not a JSON object is left alone (undefined): an array, a string, a number, bytes, a lone brace, nothing', () => {
  for (const payload of ['[{"v":1}]', '"text"', '42', '{', '}', '', '   ', 'null']) assert.equal(marked(payload), undefined, JSON.stringify(payload));
  assert.equal(markFields(Uint8Array.of(0x7b, 0xff, 0x00), stamp, false), undefined);
});

test('fields: two objects in one payload (JSON lines from a custom encoder) are no JSON object, and are left alone', () => {
  // Marking the first would leave the second without a seq while the sink counts the message as marked.
  for (const payload of ['{"a":1}\n{"b":2}', '{"a":1}{"b":2}', '{"a":{}} {}', '{} }']) assert.equal(marked(payload), undefined, payload);
  // Braces inside strings, escaped quotes, nested objects: one object still, and marked.
  assert.equal(marked('{"s":"} {","t":"\\"}","o":{"p":{}}}'), '{"seq":7,"s":"} {","t":"\\"}","o":{"p":{}}}');
});

test('fields: a large seq is written in full', () => {
  assert.equal(markFields(Buffer.from('{"v":0}'), { seq: 2 ** 53 - 1, createdAtMs: 0 }, false)?.toString(), '{"seq":9007199254740991,"v":0}');
});

test('properties: seq and replay as strings, MQTT 5 user properties being strings', () => {
  assert.deepEqual(markProperties(stamp, true), { seq: '7', replay: 'true' });
  assert.deepEqual(markProperties(stamp, false), { seq: '7' });
});

test('a replay is what the outbox calls a backlog, or what waited in the sink for a connection; the clock plays no part', () => {
  assert.equal(isReplay({ ...stamp, replay: true }, false), true, 'the outbox: at or below the seq handed out when the connection came up');
  assert.equal(isReplay({ ...stamp, replay: false }, true), true, 'the sink: it waited for a connection');
  assert.equal(isReplay({ ...stamp, replay: false }, false), false, 'live');
  assert.equal(isReplay(stamp, false), false, 'a stamp without the outbox\'s verdict, sent at once');
});
