// The framing rule a decoder declares (ABI 1.1 wg_framing), checked on Modbus TCP frames written by
// hand from the Modbus Messaging on TCP/IP Implementation Guide (MBAP: transaction id, protocol id 0,
// length of unit id + PDU, unit id; all big-endian).
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseFramingRule, ruleFrameLength, withSeq } from '../../src/host/engine/framing-rule.js';
import { isWgError } from '../../src/host/errors.js';

const MODBUS_TCP = '{"seq":{"offset":0,"bytes":2,"order":"big"},"length":{"offset":4,"bytes":2,"order":"big","add":6},"min":7,"max":260}';
const rule = parseFramingRule(MODBUS_TCP, { plugin: 'modbus' });

// Read holding registers, one register of value 42: tid 0x0001, pid 0, length 5 (unit + 4-byte PDU),
// unit 1, function 3, byte count 2, data 0x002A: 6 + 5 = 11 bytes.
const RESPONSE = new Uint8Array([0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x00, 0x2a]);

test('a response is complete at its MBAP length plus 6; fewer than 6 bytes need more', () => {
  assert.equal(ruleFrameLength(rule, RESPONSE.subarray(0, 5)), 0);
  assert.equal(ruleFrameLength(rule, RESPONSE.subarray(0, 6)), 11, 'the length is known from 6 bytes on');
  assert.equal(ruleFrameLength(rule, RESPONSE), 11);
});

test('an MBAP length of 0 or past the 260-byte ADU cannot start a frame', () => {
  assert.equal(ruleFrameLength(rule, new Uint8Array([0, 1, 0, 0, 0, 0])), -1, 'length 0: 6 bytes, below min 7');
  assert.equal(ruleFrameLength(rule, new Uint8Array([0, 1, 0, 0, 0, 254])), 260, 'length 254: the largest ADU');
  assert.equal(ruleFrameLength(rule, new Uint8Array([0, 1, 0, 0, 0, 255])), -1, 'length 255: 261 bytes');
});

test('the sequence number is written where the rule says, in its byte order; the template is untouched', () => {
  const template = new Uint8Array([0, 0, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1]);
  assert.deepEqual([...withSeq(rule, template, 0xa5c3)], [0xa5, 0xc3, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1]);
  assert.equal(template[0], 0);
  const little = parseFramingRule('{"seq":{"offset":1,"bytes":2,"order":"little"},"length":{"offset":0,"bytes":1},"max":255}', {});
  assert.deepEqual([...withSeq(little, new Uint8Array(4), 0xa5c3)], [0, 0xc3, 0xa5, 0]);
  assert.equal(ruleFrameLength(little, new Uint8Array([9])), 9, 'add defaults to 0');
});

test('a malformed rule is refused with what is wrong', () => {
  for (const [text, why] of [
    ['not json', /not JSON/],
    ['[]', /not an object/],
    ['{"length":{"offset":0,"bytes":3},"max":10}', /length\.bytes must be 1, 2 or 4/],
    ['{"length":{"offset":4,"bytes":2},"max":5}', /max must be from 6/],
    ['{"length":{"offset":0,"bytes":1},"max":10,"min":11}', /min must be from 1 to max/],
    ['{"seq":{"offset":-1,"bytes":2},"length":{"offset":0,"bytes":1},"max":10}', /seq\.offset/],
  ] as const) {
    assert.throws(() => parseFramingRule(text, { plugin: 'p' }), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_STATUS') && why.test(err.message), text);
  }
});
