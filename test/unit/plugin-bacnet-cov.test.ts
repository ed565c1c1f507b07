// bacnet decoder, COV (ABI 1.6): SubscribeCOV requests, the device's answers to them, and the
// notifications that follow, against the alarm-and-event examples of ASHRAE 135 Annex F.1: the
// SubscribeCOV example (subscriber process 18, Analog Input 10, confirmed notifications, lifetime 0)
// and its Simple-ACK, and the ConfirmedCOVNotification example (device 4, Analog Input 10:
// Present_Value 65.0, Status_Flags all clear) with its Simple-ACK (X'20' X'0F' X'01'); the same
// notification unconfirmed is plugin-bacnet-annex.test.ts's. What the annex has no example of is
// assembled by hand below, with the arithmetic.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseFramingRule, readSeq } from '../../src/host/engine/framing-rule.js';
import { apduOf, bacnetDecoder, datagram, decodeRecords, summary, unsolicited } from '../support/bacnet-plugin.js';

const GOOD = 0;
const SUSPECT = 1;
const NUMBER = 0;
const AI = 0;
const PRESENT_VALUE = 85;
const STATUS_FLAGS = 111;

// The SubscribeCOV example's service data: [0] process 18, [1] Analog Input 10, [2] TRUE, [3] lifetime 0.
const ANNEX_SUBSCRIBE = [0x09, 0x12, 0x1c, 0x00, 0x00, 0x00, 0x0a, 0x29, 0x01, 0x39, 0x00];
// The ConfirmedCOVNotification example after its header (X'00' X'02' X'0F' X'01').
const ANNEX_NOTIFICATION = [
  0x09, 0x12, 0x1c, 0x02, 0x00, 0x00, 0x04, 0x2c, 0x00, 0x00, 0x00, 0x0a, 0x39, 0x00,
  0x4e, 0x09, 0x55, 0x2e, 0x44, 0x42, 0x82, 0x00, 0x00, 0x2f, 0x09, 0x6f, 0x2e, 0x82, 0x04, 0x00, 0x2f, 0x4f,
];

function annexDevice(extra: { lifetime?: number; confirmed?: boolean } = {}) {
  return bacnetDecoder({
    devices: [{ device_instance: 4, cov_lifetime_s: extra.lifetime ?? 0, cov_confirmed: extra.confirmed ?? true, cov_process_id: 18 }],
    points: [
      { object_type: AI, instance: 10, property: PRESENT_VALUE },
      { object_type: AI, instance: 10, property: STATUS_FLAGS },
      { object_type: AI, instance: 11, property: PRESENT_VALUE },
    ],
  });
}

test('SubscribeCOV (Annex F.1): one request per object, the annex\'s service data after the confirmed-request header', () => {
  const d = annexDevice();
  // Two objects (AI 10 read twice, AI 11 once): two subscriptions, both of device 0.
  assert.deepEqual([...d.instance.subscriptions()], [0, 0]);
  const frame = d.instance.subscribeFrame(0, 0x0f, false);
  // BVLC Original-Unicast-NPDU, length 6 + 15 = 21; NPDU expecting reply.
  assert.deepEqual([...frame.subarray(0, 6)], [0x81, 0x0a, 0x00, 21, 0x01, 0x04]);
  // PDU type 0, max APDU 1476 (5; the annex's device says 206, 2), invoke id 15, service choice 5.
  assert.deepEqual(apduOf(frame), [0x00, 0x05, 0x0f, 0x05, ...ANNEX_SUBSCRIBE]);
  // The second object: Analog Input 11 is X'0000000B'.
  assert.deepEqual(apduOf(d.instance.subscribeFrame(1, 0x10, false)).slice(4, 11), [0x09, 0x12, 0x1c, 0x00, 0x00, 0x00, 0x0b]);
});

test('SubscribeCOV with a lifetime and unconfirmed notifications, and its cancellation (13.14.1.1.4), assembled by hand', () => {
  const d = annexDevice({ lifetime: 600, confirmed: false });
  // [2] FALSE: X'29' X'00'. [3] 600 s = 0x0258: context tag 3, length 2 -> X'3A' X'02' X'58'.
  assert.deepEqual(apduOf(d.instance.subscribeFrame(0, 1, false)), [0x00, 0x05, 0x01, 0x05, 0x09, 0x12, 0x1c, 0x00, 0x00, 0x00, 0x0a, 0x29, 0x00, 0x3a, 0x02, 0x58]);
  // A cancellation carries neither [2] nor [3].
  assert.deepEqual(apduOf(d.instance.subscribeFrame(0, 2, true)), [0x00, 0x05, 0x02, 0x05, 0x09, 0x12, 0x1c, 0x00, 0x00, 0x00, 0x0a]);
  // Process identifier 70000 = 0x011170: three octets, X'0B' X'01' X'11' X'70'.
  const big = bacnetDecoder({ devices: [{ device_instance: 4, cov_lifetime_s: 60, cov_process_id: 70000 }], points: [{ object_type: AI, instance: 1, property: PRESENT_VALUE }] });
  assert.deepEqual(apduOf(big.instance.subscribeFrame(0, 3, false)).slice(4, 8), [0x0b, 0x01, 0x11, 0x70]);
});

test('a device without cov settings has no subscriptions', () => {
  const d = bacnetDecoder({ devices: [{ device_instance: 4 }], points: [{ object_type: AI, instance: 10, property: PRESENT_VALUE }] });
  assert.deepEqual([...d.instance.subscriptions()], []);
});

test('the answer to SubscribeCOV: the annex\'s Simple-ACK accepts it; an Error or Reject is refused with its reason; another invoke id answers nothing', () => {
  const d = annexDevice();
  const request = d.instance.subscribeFrame(0, 0x0f, false);
  assert.deepEqual(d.instance.checkSubscribe(0, request, datagram([0x20, 0x0f, 0x05])), { ok: true });
  // Error PDU (20.1.7): invoke 15, service 5, error class Enumerated 1 (object), code Enumerated 45
  // (optional-functionality-not-supported): X'91' X'01' X'91' X'2D'.
  assert.deepEqual(d.instance.checkSubscribe(0, request, datagram([0x50, 0x0f, 0x05, 0x91, 0x01, 0x91, 0x2d])), { ok: false, reason: 'analog-input 10: error object optional-functionality-not-supported' });
  // Reject PDU (20.1.8): reason 9, unrecognized-service (a device without COV at all).
  assert.deepEqual(d.instance.checkSubscribe(0, request, datagram([0x60, 0x0f, 0x09])), { ok: false, reason: 'analog-input 10: rejected: unrecognized-service' });
  assert.equal(d.instance.checkSubscribe(0, request, datagram([0x20, 0x10, 0x05])), 'not-an-answer');
  assert.equal(d.instance.checkSubscribe(0, request, datagram([0x20, 0x0f, 0x0c])), 'not-an-answer', 'a Simple-ACK of another service');
  assert.equal(d.instance.stats()?.cov_refused, 2);
});

test('ConfirmedCOVNotification (Annex F.1): its values are samples at its arrival time, and the reply is the annex\'s Simple-ACK', () => {
  const d = annexDevice();
  const notification = datagram([0x00, 0x02, 0x0f, 0x01, ...ANNEX_NOTIFICATION]);
  const samples = decodeRecords(d.instance, [unsolicited(notification, { device: 0, ts: 1_700_000_123_456 })]);
  // Present_Value REAL 0x42820000 = 1.015625 x 2^6 = 65; Status_Flags X'04' X'00': 4 unused bits, all clear.
  assert.deepEqual(summary(samples), [[0, 65, GOOD, NUMBER], [1, 0, GOOD, NUMBER]]);
  assert.deepEqual(samples.map((s) => s.ts), [1_700_000_123_456, 1_700_000_123_456]);
  // BVLC unicast, length 9; NPDU no reply expected; Simple-ACK, invoke 15, service 1.
  assert.deepEqual([...d.instance.reply(notification)!], [0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x20, 0x0f, 0x01]);
  assert.equal(d.instance.stats()?.cov_acks, 1);
});

test('an unconfirmed notification, an I-Am, a routed notification: no reply', () => {
  const d = annexDevice();
  assert.equal(d.instance.reply(datagram([0x10, 0x02, ...ANNEX_NOTIFICATION])), undefined);
  assert.equal(d.instance.reply(datagram([0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x04, 0x22, 0x04, 0x00, 0x91, 0x03, 0x21, 0x63])), undefined);
  // NPDU control X'08': a source network (SNET 5, SLEN 1, SADR 7) -- the reply would have to be routed.
  assert.equal(d.instance.reply(datagram([0x00, 0x02, 0x0f, 0x01, ...ANNEX_NOTIFICATION], { control: 0x08, npduExtra: [0x00, 0x05, 0x01, 0x07] })), undefined);
});

test('a notification about an object no point reads is counted, not decoded', () => {
  const d = annexDevice();
  // The annex notification with the monitored object changed to Analog Input 12 (X'0000000C').
  const other = [...ANNEX_NOTIFICATION];
  other[11] = 0x0c;
  assert.deepEqual(decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...other]), { device: 0 })]), []);
  assert.equal(d.instance.stats()?.cov_unknown_objects, 1);
});

test('Status_Flags with fault set make the notified present value suspect; the flags themselves stay good', () => {
  const d = annexDevice();
  // The annex notification with Status_Flags X'04' X'40': 4 unused bits, then 0100 -> fault (bit 1) -> 2.
  const faulty = [...ANNEX_NOTIFICATION];
  faulty.splice(29, 1, 0x40);
  const samples = decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...faulty]), { device: 0 })]);
  assert.deepEqual(summary(samples), [[0, 65, SUSPECT, NUMBER], [1, 2, GOOD, NUMBER]]);
  // Out of service: 0001 -> X'10' -> bit 3 -> 8; in alarm alone (1000 -> X'80' -> 1) leaves the value good.
  faulty.splice(29, 1, 0x10);
  assert.deepEqual(summary(decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...faulty]), { device: 0 })])), [[0, 65, SUSPECT, NUMBER], [1, 8, GOOD, NUMBER]]);
  faulty.splice(29, 1, 0x80);
  assert.deepEqual(summary(decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...faulty]), { device: 0 })])), [[0, 65, GOOD, NUMBER], [1, 1, GOOD, NUMBER]]);
});

test('framing rule (ABI 1.6 answers): a notification is never taken for an answer, whatever its octet 7 holds', () => {
  const d = annexDevice();
  const rule = parseFramingRule(d.instance.framing()!, { plugin: 'bacnet' });
  // An unconfirmed COV notification's octet 7 is its service choice, 2; a confirmed one's its max-APDU octet.
  assert.equal(readSeq(rule, datagram([0x10, 0x02, ...ANNEX_NOTIFICATION])), undefined);
  assert.equal(readSeq(rule, datagram([0x00, 0x02, 0x0f, 0x01, ...ANNEX_NOTIFICATION])), undefined);
  // Answers: Simple-ACK, Complex-ACK, Error, Reject, Abort (from a server: X'71') carry the invoke id at octet 7.
  for (const type of [0x20, 0x30, 0x50, 0x60, 0x71]) assert.equal(readSeq(rule, datagram([type, 0x0f, 0x05])), 0x0f);
});

// hostile8b: the gateway's socket for a device is connected to that device's address, so a frame's
// device is who sent it. A notification whose initiating device (its context tag 1) is another
// configured device's instance is that device's sender lying, or a misconfigured device reporting as
// another: before, its values became the other device's samples.
test('hostile8b: a notification from one device claiming another configured device as its initiator gives no samples (ignored, counted)', () => {
  const d = bacnetDecoder({
    devices: [
      { device_instance: 4, cov_lifetime_s: 0, cov_confirmed: true, cov_process_id: 18 },
      { device_instance: 5, cov_lifetime_s: 0, cov_confirmed: true, cov_process_id: 18 },
    ],
    points: [
      { device: 0, object_type: AI, instance: 10, property: PRESENT_VALUE },
      { device: 1, object_type: AI, instance: 10, property: PRESENT_VALUE },
    ],
  });
  // The annex notification names device 4 as its initiator; it arrives on device 5's link (index 1).
  const spoofed = decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...ANNEX_NOTIFICATION]), { device: 1 })]);
  assert.deepEqual(spoofed, []);
  assert.equal(d.instance.stats()?.unsolicited_ignored, 1);
  // From device 4's own link: its present value, 65.0 (X'42820000'), as a sample of point 0.
  const own = decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x02, ...ANNEX_NOTIFICATION]), { device: 0 })]);
  assert.deepEqual(summary(own), [[0, 65, GOOD, NUMBER]]);
});
