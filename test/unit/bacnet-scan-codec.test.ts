// The bacnet plugin's scan codec (plugins/bacnet/tools/scan.ts) on hand-assembled bytes (ASHRAE 135:
// BVLC of Annex J.2, NPDU of 6.2, APDU of 20.1, tags of 20.2, Who-Is 16.10, I-Am 16.1, ReadProperty
// 15.5). Every expected byte and value is worked out in the comments, not taken from the codec.
import test from 'node:test';
import assert from 'node:assert/strict';
import { BacnetScanCodec, splitObjectId } from '../../src/host/commission/bacnet-scan-codec.js';

const codec = BacnetScanCodec.load();

/** BVLC Original-Unicast-NPDU (0x81 0x0a, length) and NPDU version 1, control 0, around `apdu`. */
function datagram(apdu: number[]): Uint8Array {
  const length = 4 + 2 + apdu.length;
  return Uint8Array.from([0x81, 0x0a, length >> 8, length & 0xff, 0x01, 0x00, ...apdu]);
}

// Device 1201's object identifier: type 8 in the top 10 bits, 8 x 2^22 = 33554432 = 0x02000000, plus
// instance 1201 = 0x4b1: 0x020004b1, context tag 0 with 4 octets: 0x0c.
const DEVICE_1201 = [0x0c, 0x02, 0x00, 0x04, 0xb1];

test('Who-Is: every device, unicast, is BVLC 81 0a 00 08, NPDU 01 00, APDU 10 08', () => {
  assert.deepEqual([...codec.whoIs(undefined, false, false)], [0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08]);
});

test('Who-Is 1000..1300 to a broadcast address: Original-Broadcast-NPDU and both limits as context tags', () => {
  // Low limit 1000 = 0x03e8 in 2 octets: context tag 0, length 2: 0x0a; high 1300 = 0x0514: tag 1: 0x1a.
  // APDU 2 + 3 + 3 = 8 octets, datagram 4 + 2 + 8 = 14 = 0x0e.
  assert.deepEqual([...codec.whoIs({ low: 1000, high: 1300 }, true, false)], [0x81, 0x0b, 0x00, 0x0e, 0x01, 0x00, 0x10, 0x08, 0x0a, 0x03, 0xe8, 0x1a, 0x05, 0x14]);
});

test('a global Who-Is: DNET 0xffff, DLEN 0 (every station), hop count 255, so routers pass it on', () => {
  // NPDU control 0x20 (DNET present), DNET ff ff, DLEN 00, no DADR, hop count ff: 6 octets; datagram
  // 4 + 6 + 2 = 12 = 0x0c.
  assert.deepEqual([...codec.whoIs(undefined, true, true)], [0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08]);
});

test('ReadProperty to a device behind a router: DNET, DLEN, DADR and hop count before the APDU', () => {
  // Network 5 = 00 05, MAC 0c (an MS/TP station): control 0x24 (DNET, expecting reply), 00 05, DLEN 01,
  // DADR 0c, hop count ff: NPDU 7 octets; APDU 00 05 07 0c + [0] device 1201 + [1] 76: 11 octets;
  // datagram 4 + 7 + 11 = 22 = 0x16.
  assert.deepEqual([...codec.readProperty(8, 1201, 76, undefined, 7, { network: 5, mac: [0x0c] })],
    [0x81, 0x0a, 0x00, 0x16, 0x01, 0x24, 0x00, 0x05, 0x01, 0x0c, 0xff, 0x00, 0x05, 0x07, 0x0c, ...DEVICE_1201, 0x19, 0x4c]);
});

test('an I-Am a router passed on: the source network and MAC (SNET, SLEN, SADR) as its route', () => {
  // NPDU 01 08 (SNET present), SNET 00 05, SLEN 01, SADR 0c; then the I-Am of device 1201 as above.
  const apdu = [0x10, 0x00, 0xc4, 0x02, 0x00, 0x04, 0xb1, 0x22, 0x01, 0xe0, 0x91, 0x03, 0x22, 0x01, 0x04];
  const length = 4 + 6 + apdu.length;
  const frame = Uint8Array.from([0x81, 0x0a, 0x00, length, 0x01, 0x08, 0x00, 0x05, 0x01, 0x0c, ...apdu]);
  // Max APDU 22 01 e0: 480, an MS/TP device's.
  assert.deepEqual(codec.decode(frame), { kind: 'i-am', device: 1201, maxApdu: 480, segmentation: 3, vendor: 260, route: { network: 5, mac: [0x0c] } });
});

test('ReadProperty of the object-list at array index 0 (its length), invoke id 7', () => {
  // Confirmed request 00, max APDU 1476: 05, invoke 07, service readProperty 12 = 0x0c; [0] device 1201;
  // [1] property object-list 76 = 0x4c: 0x19 0x4c; [2] index 0: 0x29 0x00. APDU 13, datagram 19 = 0x13,
  // NPDU control 0x04 (a reply is expected).
  assert.deepEqual([...codec.readProperty(8, 1201, 76, 0, 7)], [0x81, 0x0a, 0x00, 0x13, 0x01, 0x04, 0x00, 0x05, 0x07, 0x0c, ...DEVICE_1201, 0x19, 0x4c, 0x29, 0x00]);
});

test('I-Am: device instance, max APDU, segmentation and vendor', () => {
  // 10 00 (unconfirmed, i-Am), c4 + device 1201, 22 05 c4 (unsigned 1476), 91 03 (enumerated
  // no-segmentation), 22 01 04 (unsigned 260).
  const answer = codec.decode(datagram([0x10, 0x00, 0xc4, 0x02, 0x00, 0x04, 0xb1, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x22, 0x01, 0x04]));
  assert.deepEqual(answer, { kind: 'i-am', device: 1201, maxApdu: 1476, segmentation: 3, vendor: 260 });
});

test('the object-list read whole: one object identifier per value, in order', () => {
  // Complex-ACK 30, invoke 07, readProperty 0c; [0] device 1201, [1] 76, [3] opening 3e, four
  // application object identifiers (c4 + 4 octets), closing 3f.
  //   analog-input 1:       0 x 2^22 + 1 = 1                  00 00 00 01
  //   binary-input 3:       3 x 2^22 + 3 = 12582915           00 c0 00 03
  //   multi-state-value 4: 19 x 2^22 + 4 = 79691780           04 c0 00 04
  //   device 1201:          8 x 2^22 + 1201 = 33555633        02 00 04 b1
  const answer = codec.decode(datagram([0x30, 0x07, 0x0c, ...DEVICE_1201, 0x19, 0x4c, 0x3e,
    0xc4, 0x00, 0x00, 0x00, 0x01, 0xc4, 0x00, 0xc0, 0x00, 0x03, 0xc4, 0x04, 0xc0, 0x00, 0x04, 0xc4, 0x02, 0x00, 0x04, 0xb1, 0x3f]));
  assert.deepEqual(answer, { kind: 'ack', invokeId: 7, objectType: 8, instance: 1201, property: 76, values: [1, 12582915, 79691780, 33555633] });
  assert.deepEqual(splitObjectId(79691780), { objectType: 19, instance: 4 });
});

test('the object-list at index 0: its length, with the index echoed', () => {
  // [2] index 0: 29 00; the value: application unsigned 4: 21 04.
  const answer = codec.decode(datagram([0x30, 0x09, 0x0c, ...DEVICE_1201, 0x19, 0x4c, 0x29, 0x00, 0x3e, 0x21, 0x04, 0x3f]));
  assert.deepEqual(answer, { kind: 'ack', invokeId: 9, objectType: 8, instance: 1201, property: 76, index: 0, values: [4] });
});

test('one object-list element at index 2: a single object identifier', () => {
  // [2] index 2: 29 02; binary-input 3 as above.
  const answer = codec.decode(datagram([0x30, 0x0a, 0x0c, ...DEVICE_1201, 0x19, 0x4c, 0x29, 0x02, 0x3e, 0xc4, 0x00, 0xc0, 0x00, 0x03, 0x3f]));
  assert.deepEqual(answer, { kind: 'ack', invokeId: 10, objectType: 8, instance: 1201, property: 76, index: 2, values: [12582915] });
});

test('object-name as text: UTF-8 (character set 0) and ISO 8859-1 (character set 5)', () => {
  // analog-input 1: 0c 00 00 00 01; object-name 77 = 0x4d. A character string is application tag 7 with
  // extended length: 75 07, then the character set and 6 characters.
  const utf8 = codec.decode(datagram([0x30, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19, 0x4d, 0x3e, 0x75, 0x07, 0x00, ...Buffer.from('supply'), 0x3f]));
  assert.deepEqual(utf8, { kind: 'ack', invokeId: 1, objectType: 0, instance: 1, property: 77, values: ['supply'] });
  // "Zürich" in ISO 8859-1: u-umlaut is the octet 0xfc.
  const latin1 = codec.decode(datagram([0x30, 0x02, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19, 0x4d, 0x3e, 0x75, 0x07, 0x05, 0x5a, 0xfc, 0x72, 0x69, 0x63, 0x68, 0x3f]));
  assert.deepEqual(latin1, { kind: 'ack', invokeId: 2, objectType: 0, instance: 1, property: 77, values: ['Zürich'] });
});

test('present values: a REAL, and a binary object\'s enumerated as a bool', () => {
  // REAL 68.0 = 0x42880000 (sign 0, exponent 133 - 127 = 6, 1.0625 x 64 = 68): 44 42 88 00 00; property 85 = 0x55.
  const real = codec.decode(datagram([0x30, 0x03, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x44, 0x42, 0x88, 0x00, 0x00, 0x3f]));
  assert.deepEqual(real, { kind: 'ack', invokeId: 3, objectType: 0, instance: 1, property: 85, values: [68] });
  // binary-input 3 (00 c0 00 03), enumerated active 1: 91 01.
  const binary = codec.decode(datagram([0x30, 0x04, 0x0c, 0x0c, 0x00, 0xc0, 0x00, 0x03, 0x19, 0x55, 0x3e, 0x91, 0x01, 0x3f]));
  assert.deepEqual(binary, { kind: 'ack', invokeId: 4, objectType: 3, instance: 3, property: 85, values: [true] });
});

test('ReadPropertyMultiple of four properties of one object', () => {
  // 00 05 03, service readPropertyMultiple 14 = 0x0e; [0] analog-input 1; [1] opening 1e; each
  // property as context tag 0 of one octet (09): 77 = 4d, 85 = 55, 117 = 75, 28 = 1c; closing 1f.
  // APDU 4 + 5 + 1 + 8 + 1 = 19, datagram 25 = 0x19.
  assert.deepEqual([...codec.readMultiple(0, 1, [77, 85, 117, 28], 3)],
    [0x81, 0x0a, 0x00, 0x19, 0x01, 0x04, 0x00, 0x05, 0x03, 0x0e, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x1e, 0x09, 0x4d, 0x09, 0x55, 0x09, 0x75, 0x09, 0x1c, 0x1f]);
});

test('ReadPropertyMultiple-ACK: each property\'s value, and the one the device refused with its error', () => {
  // 30 03 0e; [0] analog-input 1; [1] 1e; then per result [2] property (29 xx) and [4] 4e .. 4f or
  // [5] 5e .. 5f: object-name "supply", present-value REAL 68 (44 42 88 00 00), units enumerated 64
  // (91 40), description refused: class property 2 (91 02), code unknown-property 32 (91 20).
  const answer = codec.decode(datagram([0x30, 0x03, 0x0e, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x1e,
    0x29, 0x4d, 0x4e, 0x75, 0x07, 0x00, ...Buffer.from('supply'), 0x4f,
    0x29, 0x55, 0x4e, 0x44, 0x42, 0x88, 0x00, 0x00, 0x4f,
    0x29, 0x75, 0x4e, 0x91, 0x40, 0x4f,
    0x29, 0x1c, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f,
    0x1f]));
  assert.deepEqual(answer, {
    kind: 'ack-multiple', invokeId: 3, objectType: 0, instance: 1,
    results: [{ property: 77, value: 'supply' }, { property: 85, value: 68 }, { property: 117, value: 64 }, { property: 28, errorClass: 2, errorCode: 32 }],
  });
});

test('Error, Reject, Abort and a segmented answer, each with its invoke id', () => {
  // Error 50, invoke 09, service 0c, class property 2 (91 02), code unknown-property 32 (91 20).
  assert.deepEqual(codec.decode(datagram([0x50, 0x09, 0x0c, 0x91, 0x02, 0x91, 0x20])), { kind: 'error', invokeId: 9, errorClass: 2, errorCode: 32 });
  // Reject 60, invoke 07, reason unrecognized-service 9.
  assert.deepEqual(codec.decode(datagram([0x60, 0x07, 0x09])), { kind: 'reject', invokeId: 7, reason: 9 });
  // Abort from the server 71, invoke 07, reason segmentation-not-supported 4.
  assert.deepEqual(codec.decode(datagram([0x71, 0x07, 0x04])), { kind: 'abort', invokeId: 7, reason: 4 });
  // Complex-ACK with SEG set: 38, invoke 07, sequence 0, window 1, service 0c.
  assert.deepEqual(codec.decode(datagram([0x38, 0x07, 0x00, 0x01, 0x0c])), { kind: 'segmented', invokeId: 7 });
});

test('cut short, or not BACnet/IP: unreadable, never a trap', () => {
  // The value list never closes: the 3f is missing.
  assert.deepEqual(codec.decode(datagram([0x30, 0x01, 0x0c, ...DEVICE_1201, 0x19, 0x4c, 0x3e, 0xc4, 0x00, 0x00])), { kind: 'unreadable' });
  assert.deepEqual(codec.decode(Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x05])), { kind: 'unreadable' });
  // Another tool's Who-Is on the same network: not for the scan.
  assert.deepEqual(codec.decode(datagram([0x10, 0x08])), { kind: 'other' });
});
