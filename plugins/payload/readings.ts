// What both body formats produce: readings of points, written to the batch's samples. A body is read
// whole or not at all: `bodyStart` marks where its samples begin, and a body found malformed halfway
// takes back what it had written (`dropBody`), so a sender's half-read message never becomes data.
import { SampleWriter, GOOD, SUSPECT, BAD, NO_COMM, TYPE_NUMBER, TYPE_BOOL } from "../sdk";

export const out = new SampleWriter();

// Why a body was refused, for the counters and the log line (WHY_WORDS, in this order).
export const WHY_NONE = -1;
export const WHY_SYNTAX = 0;
export const WHY_TRAILING = 1;
export const WHY_TOO_DEEP = 2;
export const WHY_BARE_VALUE = 3;
export const WHY_NO_VALUE = 4;
export const WHY_BAD_TS = 5;
export const WHY_BAD_QUALITY = 6;
export const WHY_SHAPE = 7;
export const WHY_WORDS = "syntax trailing-bytes too-deep bare-value-without-point reading-without-value bad-ts bad-quality not-a-value-or-object";

/** Nesting a body may have: a device object of reading objects needs 2; more is refused, never recursed into. */
export const MAX_DEPTH = 16;

/** The body being read: its device, the point its resource names (or -1), its arrival time. */
export let bodyDevice = 0;
export let bodyPoint = -1;
export let bodyTs: f64 = 0;
/** Readings of this body skipped because their value is not a number, bool or null (a string, an array). */
export let unusable = 0;
/** Member names of a device object that are none of the device's points. */
export let unknown = 0;
let bodyStart = 0;

export function startBody(device: i32, point: i32, ts: f64): void {
  bodyDevice = device;
  bodyPoint = point;
  bodyTs = ts;
  unusable = 0;
  unknown = 0;
  bodyStart = out.length;
}

export function dropBody(): void {
  out.truncate(bodyStart);
}

export function bodySamples(): i32 {
  return out.length - bodyStart;
}

/**
 * A number reading of point `id`. NaN (a null) and ±Infinity (1e400 in JSON, a CBOR infinity, a
 * bignum past a double) are written with quality bad unless the body said otherwise: no sink can
 * carry them as a number (JSON says null), and a good reading of null, or of an infinity a rule
 * compares as above every limit, is a reading nobody measured.
 */
export function numberReading(id: i32, v: f64, ts: f64, quality: i32): void {
  out.push(ts, v, <u32>id, <u8>(quality >= 0 ? quality : !isFinite(v) ? BAD : GOOD), TYPE_NUMBER, 0);
}

export function flag(id: i32, v: bool, ts: f64, quality: i32): void {
  out.push(ts, v ? 1 : 0, <u32>id, <u8>(quality >= 0 ? quality : GOOD), TYPE_BOOL, 0);
}

export function notUsable(): void {
  unusable++;
}

export function notAPoint(): void {
  unknown++;
}

/** Quality 0 to 3 as a number in a reading; -2 when it is not one of them. */
export function qualityOfNumber(q: f64): i32 {
  return q == 0 || q == 1 || q == 2 || q == 3 ? <i32>q : -2;
}

export const QUALITY_WORDS = "good suspect bad no-comm";
// The codes QUALITY_WORDS name, in order (the ABI's: good 0, suspect 1, bad 2, no-comm 3).
export const QUALITIES: StaticArray<u8> = [GOOD, SUSPECT, BAD, NO_COMM];
