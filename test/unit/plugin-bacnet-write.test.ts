// bacnet decoder, the write group (ABI 1.2): the WriteProperty request it builds for each object
// type, and what it makes of the device's answer. The analog case is ASHRAE 135 Annex F.3.11 (180.0
// to Present_Value of Analog Value 1, invoke id 89, answered by a SimpleACK); the others are
// assembled by hand from clause 20.2 with the arithmetic beside each octet. Every request is checked
// whole: BVLC Original-Unicast-NPDU (0x81 0x0a, length), NPDU version 1 expecting a reply (0x01 0x04).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bacnetDecoder, datagram, apduOf } from '../support/bacnet-plugin.js';
import { isWgError } from '../../src/host/errors.js';

const AO = 1;
const AV = 2;
const AI = 0;
const BO = 4;
const MSO = 14;
const MSV = 19;
const PRESENT_VALUE = 85;
const UNITS = 117;

function header(apduLength: number): number[] {
  const total = 6 + apduLength;
  return [0x81, 0x0a, total >> 8, total & 0xff, 0x01, 0x04];
}

test('F.3.11: 180.0 to Present_Value of Analog Value 1 is the annex\'s request, and its SimpleACK confirms it', () => {
  const d = bacnetDecoder({ points: [{ object_type: AV, instance: 1, property: PRESENT_VALUE, access: 'write' }] });
  const frame = d.instance.writeFrame(0, 0, 180, 89);
  // The annex's APDU but for octet 2: max APDU accepted 5 (1476 octets, the most a B/IP datagram
  // carries, as every request of this decoder says) where the annex's device says 4 (1024).
  const apdu = [0x00, 0x05, 0x59, 0x0f, 0x0c, 0x00, 0x80, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x44, 0x43, 0x34, 0x00, 0x00, 0x3f];
  assert.deepEqual([...frame], [...header(apdu.length), ...apdu]);
  // 180.0 = 1.40625 x 2^7: sign 0, exponent 127 + 7 = 0x86, fraction .40625 = .01101b -> 0x43340000.
  assert.equal(Buffer.from(Float32Array.of(180).buffer).readUInt32LE(0), 0x43340000);
  assert.deepEqual(d.instance.checkWrite(0, frame, datagram([0x20, 0x59, 0x0f])), { ok: true });
  assert.deepEqual(d.logs, []);
});

test('binary output 3 active at priority 8: Enumerated 1 and context tag 4 after the value', () => {
  const d = bacnetDecoder({ points: [{ object_type: BO, instance: 3, property: PRESENT_VALUE, access: 'read_write', write_priority: 8 }] });
  const frame = d.instance.writeFrame(0, 0, 1, 0x107); // the invoke id is the seq's low octet: 0x07
  const apdu = [
    0x00, 0x05, 0x07, 0x0f,
    0x0c, 0x01, 0x00, 0x00, 0x03, // [0] object id: 4 << 22 = 0x01000000, | 3
    0x19, 0x55, // [1] property 85
    0x3e, 0x91, 0x01, 0x3f, // [3] { Enumerated (tag 9, length 1) 1 = active }
    0x49, 0x08, // [4] priority: (4 << 4) | context 0x08 | length 1, then 8
  ];
  assert.deepEqual([...frame], [...header(apdu.length), ...apdu]);
});

test('multi-state output 5 and value 6: the state number as Unsigned of 1 and 2 octets, priority 16', () => {
  const d = bacnetDecoder({
    points: [
      { object_type: MSO, instance: 5, property: PRESENT_VALUE, access: 'write', write_priority: 16 },
      { object_type: MSV, instance: 6, property: PRESENT_VALUE, access: 'write' },
    ],
  });
  // 14 << 22 = 0x03800000; Unsigned 3 is application tag 2, length 1: 0x21 0x03; priority 16 = 0x10.
  assert.deepEqual(apduOf(d.instance.writeFrame(0, 0, 3, 1)), [0x00, 0x05, 0x01, 0x0f, 0x0c, 0x03, 0x80, 0x00, 0x05, 0x19, 0x55, 0x3e, 0x21, 0x03, 0x3f, 0x49, 0x10]);
  // 19 << 22 = 0x04c00000; 300 = 0x012c takes 2 octets: 0x22 0x01 0x2c; no priority given, none sent.
  assert.deepEqual(apduOf(d.instance.writeFrame(0, 1, 300, 2)), [0x00, 0x05, 0x02, 0x0f, 0x0c, 0x04, 0xc0, 0x00, 0x06, 0x19, 0x55, 0x3e, 0x22, 0x01, 0x2c, 0x3f]);
});

test('NaN relinquishes: Null (application tag 0, length 0) at the point\'s priority', () => {
  const d = bacnetDecoder({ points: [{ object_type: AO, instance: 7, property: PRESENT_VALUE, access: 'write', write_priority: 8 }] });
  // 1 << 22 = 0x00400000, | 7.
  assert.deepEqual(apduOf(d.instance.writeFrame(0, 0, NaN, 9)), [0x00, 0x05, 0x09, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x07, 0x19, 0x55, 0x3e, 0x00, 0x3f, 0x49, 0x08]);
});

test('an analog value is written as the nearest float32; one beyond float32 is refused, never clipped', () => {
  const d = bacnetDecoder({ points: [{ object_type: AO, instance: 1, property: PRESENT_VALUE, access: 'write' }] });
  // 21.5 = 1.34375 x 2^4: exponent 131 = 0x83, fraction .01011b -> 0x41ac0000.
  assert.deepEqual(apduOf(d.instance.writeFrame(0, 0, 21.5, 1)).slice(11, 17), [0x3e, 0x44, 0x41, 0xac, 0x00, 0x00]);
  assert.throws(() => d.instance.writeFrame(0, 0, 1e39, 1), (e: unknown) => isWgError(e, 'WG_ERR_WRITE_REFUSED') && /analog-output 1 present-value: write refused: not a finite REAL/.test(e.message));
  assert.throws(() => d.instance.writeFrame(0, 0, Infinity, 1), (e: unknown) => isWgError(e, 'WG_ERR_WRITE_REFUSED'));
});

test('what cannot be written is refused with its reason before anything is sent', () => {
  const d = bacnetDecoder({
    points: [
      { object_type: AO, instance: 1, property: PRESENT_VALUE }, // access read, the default
      { object_type: AI, instance: 2, property: PRESENT_VALUE, access: 'write' },
      { object_type: AO, instance: 3, property: UNITS, access: 'write' },
      { object_type: BO, instance: 4, property: PRESENT_VALUE, access: 'write' },
      { object_type: MSV, instance: 5, property: PRESENT_VALUE, access: 'write' },
    ],
  });
  const reason = (point: number, value: number): string => {
    try {
      d.instance.writeFrame(0, point, value, 1);
    } catch (e) {
      assert.ok(isWgError(e, 'WG_ERR_WRITE_REFUSED'));
      return String(e.context.detail);
    }
    return 'written';
  };
  assert.equal(reason(0, 1), 'analog-output 1 present-value: write refused: its access is read');
  assert.equal(reason(1, 1), 'analog-input 2 present-value: write refused: not an analog, binary or multi-state output or value');
  assert.equal(reason(2, 62), 'analog-output 3 units: write refused: only present-value is written');
  assert.equal(reason(3, 2), 'binary-output 4 present-value: write refused: a binary takes 0 (inactive) or 1 (active)');
  assert.equal(reason(4, 0), 'multi-state-value 5 present-value: write refused: a multi-state takes a state number (1, 2, ...)');
  assert.equal(reason(4, 1.5), 'multi-state-value 5 present-value: write refused: a multi-state takes a state number (1, 2, ...)');
  assert.throws(() => d.instance.writeFrame(0, 9, 1, 1), (e: unknown) => isWgError(e, 'WG_ERR_WRITE_REFUSED') && /no point 9/.test(e.message));
});

test('an Error, a Reject and an Abort are refusals with their reason; the PDU type is the code', () => {
  const d = bacnetDecoder({ points: [{ object_type: AV, instance: 1, property: PRESENT_VALUE, access: 'write' }] });
  const frame = d.instance.writeFrame(0, 0, 1, 0x21);
  // Error (20.1.7): PDU 5, invoke id, service 15, class property (2), code write-access-denied (40 = 0x28).
  assert.deepEqual(d.instance.checkWrite(0, frame, datagram([0x50, 0x21, 0x0f, 0x91, 0x02, 0x91, 0x28])), {
    ok: false, code: 'WG_ERR_DEVICE_EXCEPTION', exception: 5, detail: 'analog-value 1 present-value: the device refused the write: error property write-access-denied',
  });
  // Reject (20.1.8): PDU 6, invoke id, reason 2 inconsistent-parameters.
  assert.deepEqual(d.instance.checkWrite(0, frame, datagram([0x60, 0x21, 0x02])), {
    ok: false, code: 'WG_ERR_DEVICE_EXCEPTION', exception: 6, detail: 'analog-value 1 present-value: the device refused the write: reject inconsistent-parameters',
  });
  // Abort (20.1.9) from the server (SRV bit, 0x71): reason 9 out-of-resources.
  assert.deepEqual(d.instance.checkWrite(0, frame, datagram([0x71, 0x21, 0x09])), {
    ok: false, code: 'WG_ERR_DEVICE_EXCEPTION', exception: 7, detail: 'analog-value 1 present-value: the device refused the write: abort out-of-resources',
  });
});

test('an answer that is not this write\'s SimpleACK leaves the write unconfirmed', () => {
  const d = bacnetDecoder({ points: [{ object_type: AV, instance: 1, property: PRESENT_VALUE, access: 'write' }] });
  const frame = d.instance.writeFrame(0, 0, 1, 0x21);
  const unconfirmed = (response: Uint8Array) => {
    const verdict = d.instance.checkWrite(0, frame, response);
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.code, 'WG_ERR_WRITE_UNCONFIRMED');
  };
  unconfirmed(datagram([0x20, 0x22, 0x0f])); // another invoke id
  unconfirmed(datagram([0x20, 0x21, 0x0c])); // a SimpleACK of another service (ReadProperty, 12)
  unconfirmed(datagram([0x30, 0x21, 0x0f])); // a Complex-ACK: WriteProperty has none
  unconfirmed(Uint8Array.from([0x81, 0x0a, 0x00, 0x20, 0x01, 0x00, 0x20, 0x21, 0x0f])); // the BVLC length lies
});

test('write_priority outside 1-16 in the settings document is refused at configure', () => {
  assert.throws(() => bacnetDecoder({ points: [{ object_type: AO, instance: 1, property: PRESENT_VALUE, access: 'write', write_priority: 17 }] }), /write_priority must be 1 to 16/);
  assert.throws(() => bacnetDecoder({ points: [{ object_type: AO, instance: 1, property: PRESENT_VALUE, access: 'write', write_priority: 0 }] }), /write_priority must be 1 to 16/);
});
