// The framing rule a decoder declares (ABI 1.1 wg_framing), checked on Modbus TCP frames written by
// hand from the Modbus Messaging on TCP/IP Implementation Guide (MBAP: transaction id, protocol id 0,
// length of unit id + PDU, unit id; all big-endian).
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseFramingRule, parseFramingRules, readSeq, ruleFor, ruleFrameLength, seqMask, wantsReply, withSeq } from '../../src/host/engine/framing-rule.js';
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

// RTU (Modbus over Serial Line V1.02) has no length field: a response's length follows from its
// function code, byte 1. Frames below written by hand: address, function, ..., two CRC bytes (their
// values do not matter to framing).
const RTU = '{"seq":null,"length":{"at":1,"cases":[{"mask":128,"equals":128,"length":5},{"equals":[1,2,3,4,23],"length":{"offset":2,"bytes":1,"add":5}},{"equals":[5,6,15,16],"length":8},{"equals":22,"length":10}]},"min":5,"max":256}';

test('length cases: the first case whose value the masked byte equals gives a fixed length or a length field', () => {
  const rtu = parseFramingRule(RTU, {});
  // Read holding registers, 2 registers: 01 03 04 00 01 00 02 crc crc = 4 + 5 bytes.
  const read = new Uint8Array([1, 3, 4, 0, 1, 0, 2, 0xaa, 0xbb]);
  assert.equal(ruleFrameLength(rtu, read.subarray(0, 1)), 0, 'the function code has not arrived');
  assert.equal(ruleFrameLength(rtu, read.subarray(0, 2)), 0, 'the byte count has not arrived');
  assert.equal(ruleFrameLength(rtu, read.subarray(0, 3)), 9);
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 0x83, 2])), 5, 'exception: 0x83 & 0x80 = 0x80');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 0x90])), 5, 'the mask matches every exception function');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 6])), 8, 'write single register: the echo');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 16])), 8);
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 22])), 10, 'mask write');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 23, 2])), 7, 'read/write registers: like a read');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 7])), -1, 'no case: not a frame this rule knows');
  assert.equal(ruleFrameLength(rtu, new Uint8Array([1, 3, 252])), -1, '257 bytes: past max');
  assert.deepEqual([...withSeq(rtu, new Uint8Array([1, 3, 0, 0, 0, 1, 0x84, 0x0a]), 0xa5c3)], [1, 3, 0, 0, 0, 1, 0x84, 0x0a], 'no seq: the template as it is');
});

test('by_framing: one rule per framing name; the single form applies to every framing', () => {
  const rules = parseFramingRules(`{"by_framing":{"tcp":${MODBUS_TCP},"rtu":${RTU}}}`, {});
  assert.equal(ruleFrameLength(ruleFor(rules, 'tcp')!, RESPONSE), 11);
  assert.equal(ruleFrameLength(ruleFor(rules, 'rtu')!, new Uint8Array([1, 6])), 8);
  assert.equal(ruleFor(rules, 'ascii'), undefined, 'no rule for a framing it does not name');
  assert.equal(ruleFor(rules, 'constructor'), undefined);
  const single = parseFramingRules(MODBUS_TCP, {});
  assert.equal(ruleFrameLength(ruleFor(single, 'rtu')!, RESPONSE), 11);
});

test('a malformed rule of the new forms is refused with the setting named', () => {
  const cases = (c: string) => `{"length":{"at":1,"cases":[${c}]},"max":256}`;
  for (const [text, why] of [
    ['{"by_framing":{}}', /by_framing must be an object of rules/],
    ['{"by_framing":{"RTU":{"length":{"offset":0,"bytes":1},"max":9}}}', /"RTU" is not a framing name/],
    [`{"by_framing":{"rtu":${RTU}},"seq":null}`, /seq is not a setting here/],
    [`{"by_framing":{"rtu":{"length":{"at":1,"cases":[]},"max":9}}}`, /by_framing\.rtu\.length\.cases must be a non-empty list/],
    [cases('{"equals":3,"length":1}'), /cases\[0\]\.length must be a whole number of bytes from 2/],
    [cases('{"equals":256,"length":5}'), /cases\[0\]\.equals must be a byte/],
    [cases('{"equals":[],"length":5}'), /cases\[0\]\.equals must be a byte or a non-empty list/],
    [cases('{"mask":128,"equals":3,"length":5}'), /equals 3 has bits outside mask 128/],
    [cases('{"equals":3,"length":{"offset":2,"bytes":3}}'), /cases\[0\]\.length\.bytes must be 1, 2 or 4/],
    [cases('{"equals":3,"lenght":5}'), /cases\[0\]\.lenght is not a setting here/],
    ['{"length":{"offset":0,"bytes":1,"ad":6},"max":10}', /length\.ad is not a setting here/],
    ['{"length":{"at":-1,"cases":[{"equals":1,"length":5}]},"max":10}', /length\.at must be a byte offset/],
    ['{"length":{"at":4,"cases":[{"equals":1,"length":5}]},"max":4}', /max must be from 5/],
  ] as const) {
    assert.throws(() => parseFramingRules(text, { plugin: 'p' }), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_STATUS') && why.test(err.message), text);
  }
});

// ABI 1.4: BACnet writes a request's invoke id at octet 8 of the datagram (after BVLC 4, NPDU 2, PDU
// type, max-APDU) and finds an answer's at octet 7 (after its PDU type): ASHRAE 135, 20.1.2 and 20.1.5.
test('response_seq: an answer carries the sequence number elsewhere than its request; the mask is the one-byte field', () => {
  const rule = parseFramingRule('{"seq":{"offset":8,"bytes":1},"response_seq":{"offset":7,"bytes":1},"length":{"offset":2,"bytes":2},"min":9,"max":1507}', {});
  assert.equal(withSeq(rule, new Uint8Array(17), 0x1234)[8], 0x34);
  const ack = Uint8Array.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x30, 0x34, 0x0c]);
  assert.equal(readSeq(rule, ack), 0x34);
  assert.equal(seqMask(rule), 0xff);
  const modbus = parseFramingRule('{"seq":{"offset":0,"bytes":2},"length":{"offset":4,"bytes":2,"add":6},"max":260}', {});
  assert.equal(readSeq(modbus, Uint8Array.from([0x12, 0x34, 0, 0, 0, 3, 1, 3, 0])), 0x1234, 'without response_seq, where the request has it');
  assert.equal(seqMask(modbus), 0xffff);
  assert.throws(() => parseFramingRule('{"seq":null,"response_seq":{"offset":7,"bytes":1},"length":{"offset":2,"bytes":2},"max":1507}', {}), (e) => isWgError(e, 'WG_ERR_PLUGIN_STATUS') && /response_seq needs seq/.test(String(e.context.detail)));
});

// ABI 1.6: only some frames can be answers. BACnet (ASHRAE 135, 20.1): the PDU type is the high
// nibble of the APDU's first octet (octet 6 of a datagram without NPDU addresses); Simple-ACK 2,
// Complex-ACK 3, Error 5, Reject 6, Abort 7 answer a request (32, 48, 80, 96, 112 after mask 240);
// an unconfirmed request (1: I-Am, a COV notification) carries its service choice at octet 7.
test('answers: a frame that fails the test carries no sequence number, however its bytes fall', () => {
  const rule = parseFramingRule('{"seq":{"offset":8,"bytes":1},"response_seq":{"offset":7,"bytes":1},"answers":{"at":6,"mask":240,"equals":[32,48,80,96,112]},"length":{"offset":2,"bytes":2},"min":9,"max":1507}', {});
  assert.equal(readSeq(rule, Uint8Array.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x30, 0x02, 0x0c])), 2, 'a Complex-ACK with invoke id 2');
  assert.equal(readSeq(rule, Uint8Array.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x71, 0x02, 0x04])), 2, 'an Abort from a server (X\'71\': mask 240 leaves 112)');
  assert.equal(readSeq(rule, Uint8Array.from([0x81, 0x0b, 0x00, 0x09, 0x01, 0x00, 0x10, 0x02, 0x09])), undefined, 'an unconfirmed COV notification: service choice 2 at octet 7');
  assert.equal(readSeq(rule, Uint8Array.from([0x81, 0x0a, 0x00, 0x06, 0x01, 0x00])), undefined, 'too short for the test');
  const refused: Array<[string, RegExp]> = [
    ['{"seq":null,"answers":{"at":6,"equals":[32]},"length":{"offset":2,"bytes":2},"max":1507}', /answers needs seq/],
    ['{"seq":{"offset":8,"bytes":1},"answers":{"at":6,"mask":240,"equals":[33]},"length":{"offset":2,"bytes":2},"max":1507}', /answers\.equals 33 has bits outside mask 240/],
    ['{"seq":{"offset":8,"bytes":1},"answers":{"at":-1,"equals":[32]},"length":{"offset":2,"bytes":2},"max":1507}', /answers\.at must be a byte offset/],
    ['{"seq":{"offset":8,"bytes":1},"answers":{"at":6,"equals":[32],"when":1},"length":{"offset":2,"bytes":2},"max":1507}', /when/],
  ];
  for (const [text, why] of refused) {
    assert.throws(() => parseFramingRule(text, {}), (e) => isWgError(e, 'WG_ERR_PLUGIN_STATUS') && why.test(String(e.context.detail)), text);
  }
});

// ABI 1.6 replies: BACnet's confirmed request (PDU type 0) wants a Simple-ACK; an unconfirmed one (1) none.
test('replies: only a frame that passes the test may want a reply; without the test, any may', () => {
  const rule = parseFramingRule('{"seq":{"offset":8,"bytes":1},"replies":{"at":6,"mask":240,"equals":[0]},"length":{"offset":2,"bytes":2},"min":9,"max":1507}', {});
  assert.equal(wantsReply(rule, Uint8Array.from([0x81, 0x0a, 0x00, 0x0a, 0x01, 0x00, 0x00, 0x05, 0x0f, 0x01])), true, 'a ConfirmedCOVNotification');
  assert.equal(wantsReply(rule, Uint8Array.from([0x81, 0x0b, 0x00, 0x09, 0x01, 0x00, 0x10, 0x02, 0x09])), false, 'an UnconfirmedCOVNotification');
  assert.equal(wantsReply(parseFramingRule(MODBUS_TCP, {}), RESPONSE), true);
  assert.throws(() => parseFramingRule('{"seq":{"offset":8,"bytes":1},"replies":{"at":6,"mask":15,"equals":[16]},"length":{"offset":2,"bytes":2},"max":1507}', {}), (e) => isWgError(e, 'WG_ERR_PLUGIN_STATUS') && /replies\.equals 16 has bits outside mask 15/.test(String(e.context.detail)));
});
