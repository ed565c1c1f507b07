/**
 * Time on a serial line, from its framing: how long one character takes on the wire, and the two
 * silences Modbus RTU is built on (Modbus over Serial Line V1.02, §2.5.1.1):
 *
 * - t3.5, the inter-frame silence: at least 3.5 character times of quiet before a frame starts and
 *   after it ends. A frame boundary *is* this silence; RTU has no start or end byte.
 * - t1.5, the inter-character limit: inside a frame, a gap longer than 1.5 character times means the
 *   frame is broken.
 *
 * Above 19 200 baud the spec fixes both (1.75 ms and 0.75 ms), because computed values would be
 * shorter than a UART and an OS can honour; at and below 19 200 they are computed from the framing.
 */

export type SerialParity = 'none' | 'even' | 'odd';

/** How characters are sent on a serial line. */
export interface SerialFraming {
  /** Bits per second on the wire (9600, 19200, 115200...). */
  readonly baudRate: number;
  /** Data bits per character: 8 for Modbus RTU, 7 for some ASCII protocols. */
  readonly dataBits: 7 | 8;
  /** Parity bit: Modbus RTU's default is even; `none` should then use two stop bits (§2.5.1). */
  readonly parity: SerialParity;
  readonly stopBits: 1 | 2;
}

/** Above this baud rate the spec's fixed t1.5 and t3.5 apply instead of computed ones. */
export const RTU_FIXED_TIMING_ABOVE_BAUD = 19_200;
/** t3.5 above 19 200 baud, in milliseconds (§2.5.1.1: "a value of 1.750 ms for inter-frame delay"). */
export const RTU_FIXED_INTER_FRAME_MS = 1.75;
/** t1.5 above 19 200 baud, in milliseconds (§2.5.1.1: "750 µs for the inter-character time-out"). */
export const RTU_FIXED_INTER_CHARACTER_MS = 0.75;

/** Bits one character takes on the wire: a start bit, the data bits, the parity bit if any, the stop bits. */
export function bitsPerCharacter(framing: SerialFraming): number {
  return 1 + framing.dataBits + (framing.parity === 'none' ? 0 : 1) + framing.stopBits;
}

/** How long one character takes on the wire, in milliseconds. */
export function characterTimeMs(framing: SerialFraming): number {
  if (!(framing.baudRate > 0) || !Number.isFinite(framing.baudRate)) {
    throw new RangeError(`baud rate must be a positive number, got ${framing.baudRate}`);
  }
  return (bitsPerCharacter(framing) * 1_000) / framing.baudRate;
}

/** How long `bytes` characters take on the wire back to back, in milliseconds. */
export function transmitTimeMs(framing: SerialFraming, bytes: number): number {
  return bytes * characterTimeMs(framing);
}

/** Modbus RTU t3.5: the silence that ends a frame and must pass before the next one, in milliseconds. */
export function rtuInterFrameSilenceMs(framing: SerialFraming): number {
  if (framing.baudRate > RTU_FIXED_TIMING_ABOVE_BAUD) return RTU_FIXED_INTER_FRAME_MS;
  return 3.5 * characterTimeMs(framing);
}

/** Modbus RTU t1.5: the longest gap allowed between two characters of one frame, in milliseconds. */
export function rtuInterCharacterTimeoutMs(framing: SerialFraming): number {
  if (framing.baudRate > RTU_FIXED_TIMING_ABOVE_BAUD) return RTU_FIXED_INTER_CHARACTER_MS;
  return 1.5 * characterTimeMs(framing);
}
