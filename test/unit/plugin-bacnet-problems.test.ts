// bacnet decoder, answers that are not values: Error, Reject and Abort PDUs (ASHRAE 135, 20.1.7-20.1.9,
// with the reasons of 18.8-18.10), a property refused inside a ReadPropertyMultiple answer (15.7.1.3.2),
// a segmented answer the request did not accept (20.1.2.4), answers to another request, and hostile
// bytes. Each gives bad samples for what it concerns, one warning when what a request gets changes,
// and never a trap.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { answer, bacnetDecoder, datagram, decodeRecords, summary, unsolicited, warnings } from '../support/bacnet-plugin.js';

const GOOD = 0;
const BAD = 2;
const NUMBER = 0;
const AI = 0;
const PV = 85;

function twoPoints() {
  return bacnetDecoder({ devices: [{ name: 'ahu-3', device_instance: 1201 }], points: [{ object_type: AI, instance: 1, property: PV }, { object_type: AI, instance: 2, property: PV }] });
}
const BOTH_BAD = [[0, NaN, BAD, NUMBER], [1, NaN, BAD, NUMBER]];
const GOOD_ACK = datagram([
  0x30, 0x01, 0x0e,
  0x0c, 0, 0, 0, 1, 0x1e, 0x29, 0x55, 0x4e, 0x44, 0x3f, 0x80, 0x00, 0x00, 0x4f, 0x1f,
  0x0c, 0, 0, 0, 2, 0x1e, 0x29, 0x55, 0x4e, 0x44, 0x40, 0x00, 0x00, 0x00, 0x4f, 0x1f,
]);

test('an Error PDU makes every point of the request bad, and the warning names device, request, class and code', () => {
  const d = twoPoints();
  // RPM error: [0] { class object (1), code unknown-object (31) }, [1] the first failed reference.
  const error = datagram([0x50, 0x01, 0x0e, 0x0e, 0x91, 0x01, 0x91, 0x1f, 0x0f, 0x1c, 0, 0, 0, 1, 0x29, 0x55]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, error)])), BOTH_BAD);
  assert.deepEqual(warnings(d), ['device ahu-3 (instance 1201), ReadPropertyMultiple of 2 properties: error object unknown-object']);
  assert.equal(d.instance.stats()?.error_responses, 1);
});

test('a ReadProperty Error PDU (class and code without the [0] wrapper) reads the same way', () => {
  const d = bacnetDecoder({ devices: [{ name: 'vav-7', device_instance: 9, read_multiple: false }], points: [{ object_type: AI, instance: 4, property: PV }] });
  const error = datagram([0x50, 0x01, 0x0c, 0x91, 0x02, 0x91, 0x20]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, error)])), [[0, NaN, BAD, NUMBER]]);
  assert.deepEqual(warnings(d), ['device vav-7 (instance 9), ReadProperty analog-input 4 present-value: error property unknown-property']);
});

test('Reject and Abort give bad samples with their reason; an abort for segmentation says what to change', () => {
  const d = twoPoints();
  decodeRecords(d.instance, [answer(d.instance, 0, datagram([0x60, 0x01, 0x09]))]);
  const samples = decodeRecords(d.instance, [answer(d.instance, 0, datagram([0x71, 0x01, 0x04]))]);
  assert.deepEqual(summary(samples), BOTH_BAD);
  assert.deepEqual(warnings(d), [
    'device ahu-3 (instance 1201), ReadPropertyMultiple of 2 properties: rejected: unrecognized-service',
    'device ahu-3 (instance 1201), ReadPropertyMultiple of 2 properties: aborted: segmentation-not-supported; the answer needs segmentation, which the gateway does not accept: lower max_properties',
  ]);
  assert.deepEqual([d.instance.stats()?.reject_responses, d.instance.stats()?.abort_responses], [1, 1]);
});

test('the same problem again is counted, not logged again; a good answer after it is said once at info', () => {
  const d = twoPoints();
  for (let i = 0; i < 3; i++) decodeRecords(d.instance, [answer(d.instance, 0, datagram([0x71, 0x01, 0x04]))]);
  assert.equal(warnings(d).length, 1);
  assert.equal(d.instance.stats()?.abort_responses, 3);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, GOOD_ACK)])), [[0, 1, GOOD, NUMBER], [1, 2, GOOD, NUMBER]]);
  assert.deepEqual(d.logs.filter((l) => l.level === 30).map((l) => l.message), ['device ahu-3 (instance 1201), ReadPropertyMultiple of 2 properties: answers again after 3 failed answers']);
});

test('a property the device refuses inside a ReadPropertyMultiple answer makes that point bad, the others good', () => {
  const d = twoPoints();
  const ack = datagram([
    0x30, 0x01, 0x0e,
    0x0c, 0, 0, 0, 1, 0x1e, 0x29, 0x55, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, 0x1f,
    0x0c, 0, 0, 0, 2, 0x1e, 0x29, 0x55, 0x4e, 0x44, 0x40, 0x00, 0x00, 0x00, 0x4f, 0x1f,
  ]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, ack)])), [[0, NaN, BAD, NUMBER], [1, 2, GOOD, NUMBER]]);
  assert.deepEqual(warnings(d), ['device ahu-3 (instance 1201), ReadPropertyMultiple of 2 properties: analog-input 1 present-value: error property unknown-property']);
});

test('a segmented Complex-ACK, which the request did not accept, is refused', () => {
  const d = twoPoints();
  // SEG = 1, MOR = 1, sequence number 0, window 1.
  const segmented = datagram([0x3c, 0x01, 0x00, 0x01, 0x0e, 0x0c, 0, 0, 0, 1, 0x1e]);
  assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, segmented)])), BOTH_BAD);
  assert.match(warnings(d)[0]!, /answered in segments, which the request did not accept; refused/);
  assert.equal(d.instance.stats()?.segmented_refused, 1);
});

test('an answer with another invoke id, another service, or other properties than asked is bad, never decoded', () => {
  const d = twoPoints();
  const otherInvoke = Uint8Array.from(GOOD_ACK);
  otherInvoke[7] = 0x02;
  const otherService = Uint8Array.from(GOOD_ACK);
  otherService[8] = 0x0c;
  const otherProperty = Uint8Array.from(GOOD_ACK);
  otherProperty[16] = 0x67;
  for (const response of [otherInvoke, otherService, otherProperty]) {
    assert.deepEqual(summary(decodeRecords(d.instance, [answer(d.instance, 0, response)])), BOTH_BAD);
  }
  assert.deepEqual(warnings(d).map((w) => w.replace(/^.*: answer does not match the request: /, '')), ['its invoke id differs', 'its service differs', 'malformed, or not the properties asked']);
  assert.equal(d.instance.stats()?.mismatched_responses, 3);
});

test('hostile: truncated answers, lying lengths and random bytes give bad samples or nothing, never a trap or a sample marked good', () => {
  const d = twoPoints();
  for (let cut = 1; cut < GOOD_ACK.byteLength; cut++) {
    const truncated = Uint8Array.from(GOOD_ACK.subarray(0, cut));
    if (cut >= 4) { truncated[2] = cut >> 8; truncated[3] = cut & 0xff; }
    const samples = decodeRecords(d.instance, [answer(d.instance, 0, truncated)]);
    assert.deepEqual(summary(samples), BOTH_BAD, `cut at ${cut}`);
  }
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), fc.boolean(), (bytes, asAnswer) => {
    // As an answer: a Complex-ACK of the right invoke id with random service data. Unasked: a COV
    // notification with random parameters, which the parser walks as far as they go.
    const response = Uint8Array.from([0x81, 0x0a, 0, 0, 0x01, 0x00, ...(asAnswer ? [0x30, 0x01] : [0x10, 0x02]), ...bytes]);
    response[2] = response.byteLength >> 8;
    response[3] = response.byteLength & 0xff;
    const samples = decodeRecords(d.instance, [asAnswer ? answer(d.instance, 0, response) : unsolicited(response)]);
    if (asAnswer) assert.deepEqual(summary(samples), BOTH_BAD);
    else for (const s of samples) assert.ok(s.point === 0 || s.point === 1);
    return true;
  }), { numRuns: 500 });
});

test('an unsolicited frame that is no I-Am or COV notification is counted as ignored', () => {
  const d = twoPoints();
  // Who-Is from somebody else, and a network layer message (control bit 7).
  assert.deepEqual(decodeRecords(d.instance, [unsolicited(datagram([0x10, 0x08], { bvlcFunction: 0x0b })), unsolicited(datagram([0x00], { control: 0x80 }))]), []);
  assert.equal(d.instance.stats()?.unsolicited_ignored, 2);
});
