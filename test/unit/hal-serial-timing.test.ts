// Serial line timing (src/hal/serial-timing.ts) against arithmetic done by hand from the framing and
// against the fixed values of Modbus over Serial Line V1.02 §2.5.1.1. Every expected value below is
// worked out in the comment next to it, not taken from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bitsPerCharacter,
  characterTimeMs,
  rtuInterCharacterTimeoutMs,
  rtuInterFrameSilenceMs,
  transmitTimeMs,
  type SerialFraming,
} from '../../src/hal/serial-timing.js';

const framing = (baudRate: number, dataBits: 7 | 8, parity: SerialFraming['parity'], stopBits: 1 | 2): SerialFraming =>
  ({ baudRate, dataBits, parity, stopBits });

/** Equal to 1e-9 ms (a picosecond): floating point, not rounding to what a test hopes. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

test('bits per character: start + data + parity + stop', () => {
  assert.equal(bitsPerCharacter(framing(9600, 8, 'even', 1)), 11); // 1 + 8 + 1 + 1
  assert.equal(bitsPerCharacter(framing(9600, 8, 'none', 2)), 11); // 1 + 8 + 0 + 2: the spec's no-parity alternative
  assert.equal(bitsPerCharacter(framing(9600, 8, 'none', 1)), 10); // 1 + 8 + 0 + 1
  assert.equal(bitsPerCharacter(framing(1200, 7, 'odd', 2)), 11); // 1 + 7 + 1 + 2
  assert.equal(bitsPerCharacter(framing(1200, 7, 'even', 1)), 10); // 1 + 7 + 1 + 1
});

test('9600 8E1: 11 bits / 9600 baud = 1.1458 ms a character; t3.5 = 4.01 ms, t1.5 = 1.72 ms', () => {
  const f = framing(9600, 8, 'even', 1);
  near(characterTimeMs(f), 11_000 / 9600, 'character'); // 1.145833... ms
  assert.equal(characterTimeMs(f).toFixed(4), '1.1458');
  near(rtuInterFrameSilenceMs(f), 38_500 / 9600, 't3.5'); // 3.5 * 11 bits = 38.5 bits = 4.0104 ms
  assert.equal(rtuInterFrameSilenceMs(f).toFixed(2), '4.01');
  near(rtuInterCharacterTimeoutMs(f), 16_500 / 9600, 't1.5'); // 1.5 * 11 bits = 16.5 bits = 1.71875 ms
});

test('9600 8N1: 10 bits, so every time is 10/11 of 8E1', () => {
  const f = framing(9600, 8, 'none', 1);
  near(characterTimeMs(f), 10_000 / 9600, 'character'); // 1.041666... ms
  near(rtuInterFrameSilenceMs(f), 35_000 / 9600, 't3.5'); // 3.6458 ms
});

test('a read of 10 holding registers at 9600 8E1: 8 bytes out, 25 back, 33 characters = 37.8 ms on the wire', () => {
  // Request 01 03 00 00 00 0A C5 CD is 8 bytes; the answer is addr, fc, count, 20 data bytes, 2 CRC = 25.
  near(transmitTimeMs(framing(9600, 8, 'even', 1), 8 + 25), (33 * 11_000) / 9600, 'frame pair'); // 37.8125 ms
});

test('at 19200 baud the times are still computed (the fixed values start above it)', () => {
  const f = framing(19_200, 8, 'even', 1);
  near(characterTimeMs(f), 11_000 / 19_200, 'character'); // 0.5729 ms
  near(rtuInterFrameSilenceMs(f), 38_500 / 19_200, 't3.5'); // 2.0052 ms, still above the fixed 1.75 ms
  near(rtuInterCharacterTimeoutMs(f), 16_500 / 19_200, 't1.5'); // 0.8594 ms
});

test('above 19200 baud t3.5 is fixed at 1.75 ms and t1.5 at 0.75 ms, whatever the framing', () => {
  for (const f of [framing(38_400, 8, 'even', 1), framing(57_600, 8, 'none', 2), framing(115_200, 8, 'none', 1)]) {
    assert.equal(rtuInterFrameSilenceMs(f), 1.75, `t3.5 at ${f.baudRate}`);
    assert.equal(rtuInterCharacterTimeoutMs(f), 0.75, `t1.5 at ${f.baudRate}`);
  }
  // The character time itself is not fixed: 10 bits / 115200 baud = 0.0868 ms.
  near(characterTimeMs(framing(115_200, 8, 'none', 1)), 10_000 / 115_200, 'character at 115200');
});

test('a baud rate that is not a positive number is a programming error', () => {
  assert.throws(() => characterTimeMs(framing(0, 8, 'even', 1)), RangeError);
  assert.throws(() => characterTimeMs(framing(Number.NaN, 8, 'even', 1)), RangeError);
  assert.throws(() => rtuInterFrameSilenceMs(framing(-9600, 8, 'even', 1)), RangeError);
});
