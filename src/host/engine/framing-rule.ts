/**
 * A decoder's framing rule (ABI 1.1, `wg_framing`): how its request frames carry the sequence number
 * and where a response frame ends, declared once at configure time. With it the host's pollers build
 * frames and find frame boundaries without a call into plugin code per exchange, so a busy pipeline
 * worker cannot hold polling back, and nothing of the plugin runs on the main thread. The rule is data,
 * checked here; the worker also checks that the plugin's own frames agree with it before it is used.
 *
 * Text form (UTF-8 JSON), every number a byte count or offset:
 *   { "seq":    { "offset": 0, "bytes": 2, "order": "big" } | null,
 *     "length": { "offset": 4, "bytes": 2, "order": "big", "add": 6 },
 *     "min": 8, "max": 260 }
 * A response is complete when `length.offset + length.bytes` bytes have arrived and then the unsigned
 * field there plus `add` bytes; a total below `min` or above `max` cannot start a valid frame.
 */
import { WgError, type ErrorContext } from '../errors.js';

export interface FieldRule {
  offset: number;
  bytes: 1 | 2 | 4;
  order: 'big' | 'little';
}

export interface FramingRule {
  /** Where the host writes the sequence number into a request frame; null when frames carry none. */
  seq: FieldRule | null;
  length: FieldRule & { add: number };
  min: number;
  max: number;
}

/** The largest frame a rule may declare: a ring record's request and response lengths are 16 bits. */
const MAX_FRAME = 65535;

export function parseFramingRule(text: string, context: ErrorContext): FramingRule {
  const fail = (detail: string) => new WgError('WG_ERR_PLUGIN_STATUS', { ...context, detail: `wg_framing: ${detail}` });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail(`not JSON: ${text.slice(0, 80)}`);
  }
  if (!isObject(doc)) throw fail('not an object');
  const field = (v: unknown, name: string): FieldRule => {
    if (!isObject(v)) throw fail(`${name} must be an object`);
    const offset = v.offset;
    const bytes = v.bytes;
    const order = v.order ?? 'big';
    if (!Number.isInteger(offset) || (offset as number) < 0 || (offset as number) > MAX_FRAME) throw fail(`${name}.offset must be a byte offset`);
    if (bytes !== 1 && bytes !== 2 && bytes !== 4) throw fail(`${name}.bytes must be 1, 2 or 4`);
    if (order !== 'big' && order !== 'little') throw fail(`${name}.order must be "big" or "little"`);
    return { offset: offset as number, bytes, order };
  };
  const seq = doc.seq === null || doc.seq === undefined ? null : field(doc.seq, 'seq');
  const length = field(doc.length, 'length');
  const add = isObject(doc.length) ? doc.length.add ?? 0 : 0;
  if (!Number.isInteger(add) || Math.abs(add as number) > MAX_FRAME) throw fail('length.add must be a whole number of bytes');
  const header = length.offset + length.bytes;
  const min = doc.min ?? header;
  const max = doc.max;
  if (!Number.isInteger(max) || (max as number) < header || (max as number) > MAX_FRAME) throw fail(`max must be from ${header} to ${MAX_FRAME} bytes`);
  if (!Number.isInteger(min) || (min as number) < header || (min as number) > (max as number)) throw fail(`min must be from ${header} to max`);
  return { seq, length: { ...length, add: add as number }, min: min as number, max: max as number };
}

/** 0: more bytes needed; n > 0: the first n bytes are a frame; -1: these bytes cannot start a frame. */
export function ruleFrameLength(rule: FramingRule, received: Uint8Array): number {
  const { length } = rule;
  if (received.byteLength < length.offset + length.bytes) return 0;
  const total = readField(received, length) + length.add;
  return total < rule.min || total > rule.max ? -1 : total;
}

/** A copy of `template` with `seq` written where the rule says (the low bytes of it that fit). */
export function withSeq(rule: FramingRule, template: Uint8Array, seq: number): Uint8Array {
  const frame = template.slice();
  if (rule.seq && rule.seq.offset + rule.seq.bytes <= frame.byteLength) writeField(frame, rule.seq, seq);
  return frame;
}

/** The sequence number in `frame` where the rule puts it; undefined when the rule has none or the frame is short. */
export function readSeq(rule: FramingRule, frame: Uint8Array): number | undefined {
  if (!rule.seq || frame.byteLength < rule.seq.offset + rule.seq.bytes) return undefined;
  return readField(frame, rule.seq);
}

function readField(bytes: Uint8Array, f: FieldRule): number {
  let v = 0;
  for (let i = 0; i < f.bytes; i++) v = v * 256 + bytes[f.offset + (f.order === 'big' ? i : f.bytes - 1 - i)]!;
  return v;
}

function writeField(bytes: Uint8Array, f: FieldRule, value: number): void {
  for (let i = 0; i < f.bytes; i++) {
    const byte = Math.floor(value / 256 ** i) & 0xff;
    bytes[f.offset + (f.order === 'big' ? f.bytes - 1 - i : i)] = byte;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
