// bacnet decoder against the encoding examples of ASHRAE 135 Annex F: the ReadProperty of example
// F.3.5 (Present_Value of Analog Input 5, answered 72.3), the ReadPropertyMultiple of F.3.7
// (Present_Value and Reliability of Analog Input 16), the I-Am and the UnconfirmedCOVNotification of
// F.1. The APDU bytes are the annex's, written out here; a float's bits are checked by hand
// (72.3 as IEEE 754 single: 0x4290999A, nearest to 72.3 = 1.1296875 x 2^6).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  answer, apduOf, bacnetDecoder, datagram, decodeRecords, summary, unsolicited, FRAME_LINK_LOST, FRAME_TIMEOUT,
} from '../support/bacnet-plugin.js';

const GOOD = 0;
const BAD = 2;
const NO_COMM = 3;
const NUMBER = 0;
const BOOL = 1;
const AI = 0;
const BI = 3;
const PRESENT_VALUE = 85;
const RELIABILITY = 103;
const STATUS_FLAGS = 111;
const OUT_OF_SERVICE = 81;

test('ReadProperty (F.3.5): the request is the annex\'s service data after the confirmed-request header; 72.3 comes back as the float32 it is', () => {
  const d = bacnetDecoder({ devices: [{ device_instance: 3, read_multiple: false }], points: [{ object_type: AI, instance: 5, property: PRESENT_VALUE }] });
  const frame = d.instance.request(0, 1);
  // BVLC: B/IP, Original-Unicast-NPDU, length 17; NPDU: version 1, expecting reply (6.2.2).
  assert.deepEqual([...frame.subarray(0, 6)], [0x81, 0x0a, 0x00, 17, 0x01, 0x04]);
  // 20.1.2: PDU type 0, SA 0 (no segmented answer); max segments 0, max APDU 1476 (5); invoke id 1.
  // Then F.3.5's service: choice 12, [0] X'00000005', [1] X'55'.
  assert.deepEqual(apduOf(frame), [0x00, 0x05, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55]);
  assert.equal(frame.byteLength, 17);
  const ack = datagram([0x30, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55, 0x3e, 0x44, 0x42, 0x90, 0x99, 0x9a, 0x3f]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, ack)])), [[0, Math.fround(72.3), GOOD, NUMBER]]);
  assert.deepEqual(d.logs, []);
});

test('ReadPropertyMultiple (F.3.7): Present_Value and Reliability of Analog Input 16 in one read access specification', () => {
  const d = bacnetDecoder({ points: [{ object_type: AI, instance: 16, property: PRESENT_VALUE }, { object_type: AI, instance: 16, property: RELIABILITY }] });
  const frame = d.instance.request(0, 0xf1);
  assert.deepEqual(apduOf(frame), [0x00, 0x05, 0xf1, 0x0e, 0x0c, 0x00, 0x00, 0x00, 0x10, 0x1e, 0x09, 0x55, 0x09, 0x67, 0x1f]);
  const ack = datagram([
    0x30, 0xf1, 0x0e, 0x0c, 0x00, 0x00, 0x00, 0x10, 0x1e,
    0x29, 0x55, 0x4e, 0x44, 0x42, 0x90, 0x99, 0x9a, 0x4f,
    0x29, 0x67, 0x4e, 0x91, 0x00, 0x4f,
    0x1f,
  ]);
  const samples = decodeRecords(d.instance, [answer(d.instance, 0, ack, { seq: 0xf1 })]);
  assert.deepEqual(summary(samples), [[0, Math.fround(72.3), GOOD, NUMBER], [1, 0, GOOD, NUMBER]]);
});

test('the host\'s sequence number is the invoke id: its low octet, where the framing rule says', () => {
  const d = bacnetDecoder({ points: [{ object_type: AI, instance: 1, property: PRESENT_VALUE }] });
  assert.deepEqual(JSON.parse(d.instance.framing()!), { seq: { offset: 8, bytes: 1 }, response_seq: { offset: 7, bytes: 1 }, answers: { at: 6, mask: 240, equals: [32, 48, 80, 96, 112] }, replies: { at: 6, mask: 240, equals: [0] }, length: { offset: 2, bytes: 2, order: 'big', add: 0 }, min: 9, max: 1507 });
  assert.equal(d.instance.request(0, 0x1234)[8], 0x34);
  assert.equal(d.instance.request(0, 7)[8], 7);
});

test('UnconfirmedCOVNotification (F.1): the notified Present_Value and Status_Flags become samples of the points reading them', () => {
  const d = bacnetDecoder({
    devices: [{ device_instance: 4 }],
    points: [
      { object_type: AI, instance: 10, property: PRESENT_VALUE },
      { object_type: AI, instance: 10, property: STATUS_FLAGS },
      { object_type: AI, instance: 11, property: PRESENT_VALUE },
    ],
  });
  // Subscriber process 18, initiating device 4, Analog Input 10, 0 s remaining, then the values:
  // Present_Value REAL 65.0 (0x42820000), Status_Flags bit string of 4 bits, all clear.
  const cov = datagram([
    0x10, 0x02, 0x09, 0x12, 0x1c, 0x02, 0x00, 0x00, 0x04, 0x2c, 0x00, 0x00, 0x00, 0x0a, 0x39, 0x00,
    0x4e, 0x09, 0x55, 0x2e, 0x44, 0x42, 0x82, 0x00, 0x00, 0x2f, 0x09, 0x6f, 0x2e, 0x82, 0x04, 0x00, 0x2f, 0x4f,
  ], { bvlcFunction: 0x0b });
  const samples = decodeRecords(d.instance, [unsolicited(cov, { ts: 1234 })]);
  assert.deepEqual(summary(samples), [[0, 65, GOOD, NUMBER], [1, 0, GOOD, NUMBER]]);
  assert.deepEqual(samples.map((s) => s.ts), [1234, 1234]);
  assert.equal(d.instance.stats()?.cov_notifications, 1);
});

test('I-Am (F.1): counted, no samples', () => {
  const d = bacnetDecoder({ points: [{ object_type: AI, instance: 1, property: PRESENT_VALUE }] });
  // Device 3, max APDU 1024, no segmentation (3), vendor 99.
  const iAm = datagram([0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x03, 0x22, 0x04, 0x00, 0x91, 0x03, 0x21, 0x63], { bvlcFunction: 0x0b });
  assert.deepEqual(decodeRecords(d.instance, [unsolicited(iAm)]), []);
  assert.equal(d.instance.stats()?.i_am_received, 1);
});

test('a binary object\'s present value is a bool; status flags a number of bits; out-of-service a bool', () => {
  const d = bacnetDecoder({
    points: [
      { object_type: BI, instance: 2, property: PRESENT_VALUE },
      { object_type: BI, instance: 2, property: STATUS_FLAGS },
      { object_type: BI, instance: 2, property: OUT_OF_SERVICE },
    ],
  });
  // Enumerated 1 (active); bit string: 4 unused bits, 0100 (fault set) -> bit 1 -> 2; Boolean true (LVT 1).
  const ack = datagram([
    0x30, 0x01, 0x0e, 0x0c, 0x00, 0xc0, 0x00, 0x02, 0x1e,
    0x29, 0x55, 0x4e, 0x91, 0x01, 0x4f,
    0x29, 0x6f, 0x4e, 0x82, 0x04, 0x40, 0x4f,
    0x29, 0x51, 0x4e, 0x11, 0x4f,
    0x1f,
  ]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, ack)])), [[0, 1, GOOD, BOOL], [1, 2, GOOD, NUMBER], [2, 1, GOOD, BOOL]]);
});

test('a timeout or a lost link gives the request\'s points, NaN and no-comm', () => {
  const d = bacnetDecoder({ points: [{ object_type: AI, instance: 1, property: PRESENT_VALUE }, { object_type: AI, instance: 2, property: PRESENT_VALUE }] });
  const samples = decodeRecords(d.instance, [answer(d.instance, 0, null, { status: FRAME_TIMEOUT }), answer(d.instance, 0, null, { status: FRAME_LINK_LOST })]);
  assert.deepEqual(summary(samples), [[0, NaN, NO_COMM, NUMBER], [1, NaN, NO_COMM, NUMBER], [0, NaN, NO_COMM, NUMBER], [1, NaN, NO_COMM, NUMBER]]);
});

test('an answer routed through a router (NPDU with SNET and SADR) decodes like a direct one', () => {
  const d = bacnetDecoder({ devices: [{ device_instance: 7, read_multiple: false }], points: [{ object_type: AI, instance: 5, property: PRESENT_VALUE }] });
  // Control 0x08: SNET present; SNET 5, SLEN 1, SADR 0x21 (an MS/TP station).
  const ack = datagram([0x30, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55, 0x3e, 0x44, 0x42, 0x90, 0x99, 0x9a, 0x3f], { control: 0x08, npduExtra: [0x00, 0x05, 0x01, 0x21] });
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, ack)])), [[0, Math.fround(72.3), GOOD, NUMBER]]);
});

test('ReadPropertyMultiple of more properties than max_properties is split, an object\'s properties kept together', () => {
  const d = bacnetDecoder({
    with: { max_properties: 2 },
    points: [
      { object_type: AI, instance: 1, property: PRESENT_VALUE },
      { object_type: AI, instance: 2, property: PRESENT_VALUE },
      { object_type: AI, instance: 1, property: STATUS_FLAGS },
    ],
  });
  assert.equal(d.instance.requests().length, 2);
  // First request: points 0 and 1 (the first two in id order), each its own object.
  assert.deepEqual(apduOf(d.instance.request(0, 1)).slice(3), [0x0e, 0x0c, 0, 0, 0, 1, 0x1e, 0x09, 0x55, 0x1f, 0x0c, 0, 0, 0, 2, 0x1e, 0x09, 0x55, 0x1f]);
  assert.deepEqual(apduOf(d.instance.request(1, 1)).slice(3), [0x0e, 0x0c, 0, 0, 0, 1, 0x1e, 0x09, 0x6f, 0x1f]);
  const grouped = bacnetDecoder({
    points: [
      { object_type: AI, instance: 1, property: PRESENT_VALUE },
      { object_type: AI, instance: 2, property: PRESENT_VALUE },
      { object_type: AI, instance: 1, property: STATUS_FLAGS },
    ],
  });
  assert.deepEqual(apduOf(grouped.instance.request(0, 1)).slice(3), [0x0e, 0x0c, 0, 0, 0, 1, 0x1e, 0x09, 0x55, 0x09, 0x6f, 0x1f, 0x0c, 0, 0, 0, 2, 0x1e, 0x09, 0x55, 0x1f]);
  // The answer follows the request's order; the samples are the points', each with its own id.
  const ack = datagram([
    0x30, 0x01, 0x0e,
    0x0c, 0, 0, 0, 1, 0x1e, 0x29, 0x55, 0x4e, 0x44, 0x41, 0x20, 0x00, 0x00, 0x4f, 0x29, 0x6f, 0x4e, 0x82, 0x04, 0x00, 0x4f, 0x1f,
    0x0c, 0, 0, 0, 2, 0x1e, 0x29, 0x55, 0x4e, 0x44, 0x41, 0xa0, 0x00, 0x00, 0x4f, 0x1f,
  ]);
  assert.deepEqual(summary(decodeRecords(grouped.instance, [answer(grouped.instance, 0, ack)])), [[0, 10, GOOD, NUMBER], [2, 0, GOOD, NUMBER], [1, 20, GOOD, NUMBER]]);
});

test('frame length: a datagram is as long as its BVLC says; not B/IP is a bad frame', () => {
  const d = bacnetDecoder({ points: [{ object_type: AI, instance: 1, property: PRESENT_VALUE }] });
  const ack = datagram([0x30, 0x01, 0x0c]);
  assert.equal(d.instance.frameLength(ack), ack.byteLength);
  assert.equal(d.instance.frameLength(ack.subarray(0, 5)), 0);
  assert.ok(d.instance.frameLength(Uint8Array.of(0x82, 0x0a, 0x00, 0x09, 1, 0, 0, 0, 0)) < 0);
  assert.ok(d.instance.frameLength(Uint8Array.of(0x81, 0x0a, 0xff, 0xff)) < 0, 'longer than any B/IP datagram');
});
