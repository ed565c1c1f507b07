/**
 * How a message carries its sequence number and its replay flag to the consumer, so that it can
 * de-duplicate after a crash (at-least-once delivers some messages twice) and tell the backlog of an
 * outage from live readings (docs/delivery.md).
 *
 * - `properties`: MQTT 5 user properties `seq` always and `replay` ("true") only on a replay, as in
 *   `fields`; the payload is untouched. Only over an MQTT 5 connection. Each user property costs
 *   MQTT.js a dozen small stream writes per message: a `replay=false` on every live message was about
 *   a tenth of the gateway's CPU per point at 5 k points/s (bench/harness-load, A/B in one run).
 * - `fields`: members written at the start of a JSON object payload: `"seq":N` always and
 *   `"replay":true` only on a replay, so a live message costs a few bytes only. A payload that is not
 *   a JSON object (a batch array, bytes of a custom encoder) goes out unmarked, and the sink counts it.
 * - `auto`: `properties` over MQTT 5, `fields` otherwise (MQTT 3.1.1, CoAP).
 * - `none`: nothing is added.
 *
 * A message is a replay when it was waiting before the connection that carries it came up: it waited in
 * the outbox through an outage, a restart or a failed attempt (the outbox judges that by seq: at or
 * below the last seq handed out when the connection came up), or it waited in the sink for a
 * connection. The order of things decides, never the wall clock, so a clock step cannot turn a message
 * that waited into a live one. A live message made just before a reconnect counts as a replay too; the
 * flag never says "live" of a message that waited.
 */
import type { MessageStamp } from './sink.js';

export const MARK_MODES = ['auto', 'properties', 'fields', 'none'] as const;
export type MarkMode = (typeof MARK_MODES)[number];

/** Whether a message with this stamp is a replay; `waited`: it waited in the sink for a connection. */
export function isReplay(stamp: MessageStamp, waited: boolean): boolean {
  return stamp.replay === true || waited;
}

/** The MQTT 5 user properties of a stamped message: `replay` only on a replay, absent on a live one. */
export function markProperties(stamp: MessageStamp, replay: boolean): Record<string, string> {
  return replay ? { seq: String(stamp.seq), replay: 'true' } : { seq: String(stamp.seq) };
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Where the object opened at `open` closes: braces counted, strings (and their escapes) skipped; -1
 * when it does not. Only the nesting is read, not the members: the rest is the encoder's.
 */
function closingBrace(payload: Uint8Array, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < payload.length; i++) {
    const byte = payload[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE) depth++;
    else if (byte === CLOSE_BRACE && --depth === 0) return i;
  }
  return -1;
}

/**
 * The payload with `"seq":N` (and `"replay":true` on a replay) written as the first members of its
 * JSON object, or undefined when the payload is not a JSON object (first and last non-space bytes
 * `{` and `}`, the one closing the other: JSON lines are not one object; the rest is the encoder's
 * and is not parsed). A key `seq` the encoder wrote itself would be duplicated: JSON parsers keep
 * the last one, the encoder's.
 */
export function markFields(payload: Uint8Array, stamp: MessageStamp, replay: boolean): Buffer | undefined {
  let first = 0;
  while (first < payload.length && isJsonSpace(payload[first]!)) first++;
  let last = payload.length - 1;
  while (last > first && isJsonSpace(payload[last]!)) last--;
  if (payload[first] !== OPEN_BRACE || payload[last] !== CLOSE_BRACE || last === first) return undefined;
  if (closingBrace(payload, first) !== last) return undefined; // `{...}{...}`, JSON lines: no one object
  let next = first + 1;
  while (next < last && isJsonSpace(payload[next]!)) next++;
  const empty = next === last;
  const members = `"seq":${stamp.seq}${replay ? ',"replay":true' : ''}${empty ? '' : ','}`;
  const head = Buffer.from(members, 'latin1');
  return Buffer.concat([payload.subarray(0, first + 1), head, payload.subarray(first + 1)]);
}
