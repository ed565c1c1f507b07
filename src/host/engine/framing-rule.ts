/**
 * A decoder's framing rule (ABI 1.1, `wg_framing`): how its request frames carry the sequence number
 * and where a response frame ends, declared once at configure time. With it the host's pollers build
 * frames and find frame boundaries without a call into plugin code per exchange, so a busy pipeline
 * worker cannot hold polling back, and nothing of the plugin runs on the main thread. The rule is data,
 * checked here; the worker also checks that the plugin's own frames agree with it before it is used.
 *
 * Text form (UTF-8 JSON), every number a byte count or offset (docs/plugin-abi.md, wg_framing):
 *   RULE  = { "seq": FIELD | null, "response_seq": FIELD, "answers": TEST, "replies": TEST, "length": FIELD + { "add": n } | CASES, "min": n, "max": n }
 *   TEST  = { "at": n, "mask": n, "equals": n | [n...] }
 *   CASES = { "at": n, "cases": [ { "mask": n, "equals": n | [n...], "length": n | FIELD + { "add": n } } ] }
 *   TEXT  = RULE | { "by_framing": { "<framing>": RULE, ... } }
 * A length field: the response is complete when the field has arrived and then the unsigned field plus
 * `add` bytes. Cases: once the byte at `at` has arrived, the first case whose `equals` holds the byte
 * AND `mask` (default 255) gives the length: a fixed total, or a length field. No case: not a frame.
 * A total below `min` or above `max` cannot start a valid frame. `by_framing` gives a rule per device
 * framing (the settings document's `devices[i].framing`, "tcp" when absent); the single form applies
 * to every device. `answers` (ABI 1.6): a response frame is an answer to a request only when its byte
 * at `at` AND `mask` is one of `equals`; any other frame (a BACnet COV notification, whose octet 7 is
 * no invoke id) is never matched to a request by its sequence number, however its bytes fall.
 * `replies` (ABI 1.6): only an unsolicited frame that passes it may want a reply (wg_reply), so the
 * host asks the worker for none of the others (a flood of unconfirmed notifications stays off it).
 */
import { WgError, type ErrorContext } from '../errors.js';

export interface FieldRule {
  offset: number;
  bytes: 1 | 2 | 4;
  order: 'big' | 'little';
}

export type LengthField = FieldRule & { add: number };

export interface LengthCase {
  mask: number;
  equals: number[];
  /** A fixed total, or the length field that says it. */
  length: number | LengthField;
}

export interface LengthCases {
  at: number;
  cases: LengthCase[];
}

export interface FramingRule {
  /** Where the host writes the sequence number into a request frame; null when frames carry none. */
  seq: FieldRule | null;
  /**
   * ABI 1.4: where an answer carries it, when not where the request does (BACnet: a request's invoke id
   * follows its max-APDU octet, an answer's its PDU type); null: at `seq`.
   */
  responseSeq: FieldRule | null;
  /** ABI 1.6: which frames can be answers at all (the rest are unsolicited); null: every frame. */
  answers: AnswerTest | null;
  /** ABI 1.6: which unsolicited frames may want a reply (wg_reply); null: any. */
  replies: AnswerTest | null;
  length: LengthField | LengthCases;
  min: number;
  max: number;
}

/** A frame answers a request only when its byte `at` AND `mask` is one of `equals`. */
export interface AnswerTest {
  at: number;
  mask: number;
  equals: number[];
}

/** A rule for every device (`all`), or one per device framing name. */
export type FramingRules = { all: FramingRule } | { byFraming: Record<string, FramingRule> };

/** The framing of a device whose settings name none. */
export const DEFAULT_FRAMING = 'tcp';

/** The largest frame a rule may declare: a ring record's request and response lengths are 16 bits. */
const MAX_FRAME = 65535;

type Fail = (detail: string) => WgError;

/** Parses the text of wg_framing, either form. */
export function parseFramingRules(text: string, context: ErrorContext): FramingRules {
  const fail: Fail = (detail) => new WgError('WG_ERR_PLUGIN_STATUS', { ...context, detail: `wg_framing: ${detail}` });
  const doc = parseJson(text, fail);
  if (!('by_framing' in doc)) return { all: ruleOf(doc, '', fail) };
  onlyKeys(doc, ['by_framing'], '', fail);
  const by = doc.by_framing;
  if (!isObject(by) || Object.keys(by).length === 0) throw fail('by_framing must be an object of rules by framing name');
  const byFraming: Record<string, FramingRule> = {};
  for (const [name, rule] of Object.entries(by)) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw fail(`by_framing: "${name}" is not a framing name (lower case letters, digits, _)`);
    if (!isObject(rule)) throw fail(`by_framing.${name} must be a rule object`);
    byFraming[name] = ruleOf(rule, `by_framing.${name}.`, fail);
  }
  return { byFraming };
}

/** Parses a text of the single-rule form. */
export function parseFramingRule(text: string, context: ErrorContext): FramingRule {
  const fail: Fail = (detail) => new WgError('WG_ERR_PLUGIN_STATUS', { ...context, detail: `wg_framing: ${detail}` });
  return ruleOf(parseJson(text, fail), '', fail);
}

/** The rule for devices of `framing`, or undefined when the rules have none for it. */
export function ruleFor(rules: FramingRules, framing: string): FramingRule | undefined {
  return 'all' in rules ? rules.all : Object.hasOwn(rules.byFraming, framing) ? rules.byFraming[framing] : undefined;
}

/** 0: more bytes needed; n > 0: the first n bytes are a frame; -1: these bytes cannot start a frame. */
export function ruleFrameLength(rule: FramingRule, received: Uint8Array): number {
  let length = rule.length;
  if ('cases' in length) {
    if (received.byteLength <= length.at) return 0;
    const byte = received[length.at]!;
    const match = length.cases.find((c) => c.equals.includes(byte & c.mask));
    if (!match) return -1;
    if (typeof match.length === 'number') return match.length < rule.min || match.length > rule.max ? -1 : match.length;
    length = match.length;
  }
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

/** The sequence number an answer `frame` carries where the rule puts it; undefined when the rule has none or the frame is short. */
export function readSeq(rule: FramingRule, frame: Uint8Array): number | undefined {
  const at = rule.responseSeq ?? rule.seq;
  if (!at || frame.byteLength < at.offset + at.bytes) return undefined;
  if (rule.answers && !isAnswer(rule.answers, frame)) return undefined;
  return readField(frame, at);
}

/** Whether unsolicited `frame` may want a reply by the rule's `replies` test (ABI 1.6); without one, any may. */
export function wantsReply(rule: FramingRule, frame: Uint8Array): boolean {
  return rule.replies === null || isAnswer(rule.replies, frame);
}

/** Whether `frame` can be an answer by the rule's `answers` test (ABI 1.6). */
function isAnswer(test: AnswerTest, frame: Uint8Array): boolean {
  const byte = frame[test.at];
  return byte !== undefined && test.equals.includes(byte & test.mask);
}

/** The sequence numbers a frame can carry, as a mask of the request's field (0xff for one byte); undefined when none. */
export function seqMask(rule: FramingRule): number | undefined {
  return rule.seq ? 2 ** (8 * Math.min(rule.seq.bytes, (rule.responseSeq ?? rule.seq).bytes)) - 1 : undefined;
}

function parseJson(text: string, fail: Fail): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail(`not JSON: ${text.slice(0, 80)}`);
  }
  if (!isObject(doc)) throw fail('not an object');
  return doc;
}

function ruleOf(doc: Record<string, unknown>, at: string, fail: Fail): FramingRule {
  onlyKeys(doc, ['seq', 'response_seq', 'answers', 'replies', 'length', 'min', 'max'], at, fail);
  const seq = doc.seq === null || doc.seq === undefined ? null : field(doc.seq, `${at}seq`, ['offset', 'bytes', 'order'], fail);
  const responseSeq = doc.response_seq === null || doc.response_seq === undefined ? null : field(doc.response_seq, `${at}response_seq`, ['offset', 'bytes', 'order'], fail);
  if (responseSeq && !seq) throw fail(`${at}response_seq needs seq: an answer can only carry the sequence number its request did`);
  const answers = doc.answers === null || doc.answers === undefined ? null : answerTest(doc.answers, `${at}answers`, fail);
  if (answers && !seq) throw fail(`${at}answers needs seq: it says which frames are matched to requests by it`);
  const replies = doc.replies === null || doc.replies === undefined ? null : answerTest(doc.replies, `${at}replies`, fail);
  const lengthDoc = doc.length;
  let length: LengthField | LengthCases;
  let header: number;
  if (isObject(lengthDoc) && 'cases' in lengthDoc) {
    length = cases(lengthDoc, `${at}length`, fail);
    header = length.at + 1;
  } else {
    length = lengthField(lengthDoc, `${at}length`, fail);
    header = length.offset + length.bytes;
  }
  const min = doc.min ?? header;
  const max = doc.max;
  if (!Number.isInteger(max) || (max as number) < header || (max as number) > MAX_FRAME) throw fail(`${at}max must be from ${header} to ${MAX_FRAME} bytes`);
  if (!Number.isInteger(min) || (min as number) < header || (min as number) > (max as number)) throw fail(`${at}min must be from ${header} to max`);
  return { seq, responseSeq, answers, replies, length, min: min as number, max: max as number };
}

function answerTest(v: unknown, name: string, fail: Fail): AnswerTest {
  if (!isObject(v)) throw fail(`${name} must be an object`);
  onlyKeys(v, ['at', 'mask', 'equals'], `${name}.`, fail);
  if (!isOffset(v.at)) throw fail(`${name}.at must be a byte offset`);
  const mask = v.mask ?? 0xff;
  if (!isByte(mask)) throw fail(`${name}.mask must be a byte (0 to 255)`);
  const equals = Array.isArray(v.equals) ? v.equals : [v.equals];
  if (equals.length === 0 || !equals.every(isByte)) throw fail(`${name}.equals must be a byte or a non-empty list of bytes`);
  const unreachable = (equals as number[]).find((e) => (e & mask) !== e);
  if (unreachable !== undefined) throw fail(`${name}.equals ${unreachable} has bits outside mask ${mask as number}: it can never match`);
  return { at: v.at, mask: mask as number, equals: equals as number[] };
}

function cases(doc: Record<string, unknown>, name: string, fail: Fail): LengthCases {
  onlyKeys(doc, ['at', 'cases'], `${name}.`, fail);
  const at = doc.at;
  if (!isOffset(at)) throw fail(`${name}.at must be a byte offset`);
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) throw fail(`${name}.cases must be a non-empty list`);
  const list = doc.cases.map((c: unknown, i): LengthCase => {
    const where = `${name}.cases[${i}]`;
    if (!isObject(c)) throw fail(`${where} must be an object`);
    onlyKeys(c, ['mask', 'equals', 'length'], `${where}.`, fail);
    const mask = c.mask ?? 0xff;
    if (!isByte(mask)) throw fail(`${where}.mask must be a byte (0 to 255)`);
    const equals = Array.isArray(c.equals) ? c.equals : [c.equals];
    if (equals.length === 0 || !equals.every(isByte)) throw fail(`${where}.equals must be a byte or a non-empty list of bytes`);
    const unreachable = (equals as number[]).find((e) => (e & mask) !== e);
    if (unreachable !== undefined) throw fail(`${where}.equals ${unreachable} has bits outside mask ${mask as number}: it can never match`);
    let length: number | LengthField;
    if (typeof c.length === 'number') {
      if (!Number.isInteger(c.length) || c.length < at + 1 || c.length > MAX_FRAME) throw fail(`${where}.length must be a whole number of bytes from ${at + 1} to ${MAX_FRAME}, or a length field`);
      length = c.length;
    } else {
      length = lengthField(c.length, `${where}.length`, fail);
    }
    return { mask: mask as number, equals: equals as number[], length };
  });
  return { at, cases: list };
}

function lengthField(v: unknown, name: string, fail: Fail): LengthField {
  const f = field(v, name, ['offset', 'bytes', 'order', 'add'], fail);
  const add = (v as Record<string, unknown>).add ?? 0;
  if (!Number.isInteger(add) || Math.abs(add as number) > MAX_FRAME) throw fail(`${name}.add must be a whole number of bytes`);
  return { ...f, add: add as number };
}

function field(v: unknown, name: string, keys: string[], fail: Fail): FieldRule {
  if (!isObject(v)) throw fail(`${name} must be an object`);
  onlyKeys(v, keys, `${name}.`, fail);
  const offset = v.offset;
  const bytes = v.bytes;
  const order = v.order ?? 'big';
  if (!isOffset(offset)) throw fail(`${name}.offset must be a byte offset`);
  if (bytes !== 1 && bytes !== 2 && bytes !== 4) throw fail(`${name}.bytes must be 1, 2 or 4`);
  if (order !== 'big' && order !== 'little') throw fail(`${name}.order must be "big" or "little"`);
  return { offset, bytes, order };
}

/** A rule with a misspelt key would mean something else than its author meant: refused. */
function onlyKeys(v: Record<string, unknown>, keys: string[], at: string, fail: Fail): void {
  const unknown = Object.keys(v).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw fail(`${at}${unknown[0]} is not a setting here (known: ${keys.join(', ')})`);
}

function isOffset(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_FRAME;
}

function isByte(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
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
