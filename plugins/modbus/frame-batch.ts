// wg_process: a frame batch in, a sample batch out. Each record answers one planned request and
// yields exactly one sample per point of that request: its value (good), or NaN marked bad or no-comm.
// A first pass over the records sizes the output exactly (the plan knows each request's points and
// text), so the decode loop stores samples and text without a capacity check or an allocation.
import {
  frameAt, frameAfter, frameLengthField, frameDevice, frameRequest, frameStatus, frameSeq, frameTs, frameRequestLength,
  frameResponseLength, frameRequestAt, frameResponseAt, FRAME_HEADER,
} from "../sdk/frame-records";
import { reserveOutput, setResult, putSample, AGG_RAW, FRAME_OK, GOOD, BAD, NO_COMM, TYPE_NUMBER, TYPE_BOOL, TYPE_TEXT, BATCH_HEADER, SAMPLE_SIZE } from "../sdk";
import { utf8 } from "../sdk/utf8";
import { R_ID, R_POSITION, R_SPAN, R_TYPE, R_ORDER, R_BIT, R_SCALE, R_OFFSET, RECORD_SIZE } from "./point-table";
import { T_BOOL, T_INT16, T_UINT16, T_INT32, T_FLOAT32, T_INT64, T_FLOAT64, T_STRING, T_COIL } from "./point-types";
import { requestCount, requests, entries, Q_FUNCTION, Q_QUANTITY, Q_DEVICE, Q_FIRST, Q_COUNT, Q_TEXT, REQUEST_SIZE } from "./request-plan";
import { requestFrame, responsePdu, pduOffset, MAX_REQUEST_FRAME } from "./transport";
import { checkReadResponse, DATA_OFFSET } from "./pdu";
import { register16, register32, register64, coil, text } from "./value-decode";
import { responseStart, responseSettle, noteMismatch, noteUnplanned } from "./response-problems";

// The request this instance would have built, to compare with the one the record carries.
const expected = memory.data(MAX_REQUEST_FRAME);

// Where the next sample goes, and the text heap after the last sample.
let out: usize = 0;
let heap: usize = 0;
let heapLength: u32 = 0;

/** Appends a raw sample; putSample makes every NaN the canonical one (a device's payload is not kept). */
@inline function put(ts: f64, v: f64, id: u32, quality: u8, type: u8): void {
  putSample(out, ts, v, id, quality, type, AGG_RAW);
  out += SAMPLE_SIZE;
}

/**
 * The quality of the record's response to request `r`. The record's request frame must be the one
 * this plan builds for `r` with the record's seq: otherwise the response answers some other plan
 * (a plugin swapped on one thread only), and decoding it with this plan's offsets would produce wrong
 * values marked good.
 */
function check(rec: usize, r: i32, q: usize): u8 {
  const seq = frameSeq(rec);
  const reqLen = frameRequestLength(rec);
  const respLen = frameResponseLength(rec);
  const built = requestFrame(expected, r, seq);
  let same = reqLen == built && FRAME_HEADER - 4 + reqLen + respLen <= frameLengthField(rec) && frameDevice(rec) == <i32>load<u16>(q, Q_DEVICE);
  for (let i = 0; same && i < built; i++) same = load<u8>(frameRequestAt(rec) + <usize>i) == load<u8>(expected + <usize>i);
  if (!same) {
    noteMismatch(utf8("request not as planned, length "), reqLen, built);
    return BAD;
  }
  const resp = frameResponseAt(rec);
  const device = <i32>load<u16>(q, Q_DEVICE);
  const pduLength = responsePdu(resp, respLen, device, seq);
  if (pduLength < 0) return BAD;
  return checkReadResponse(resp + <usize>pduOffset(device), pduLength, <i32>load<u8>(q, Q_FUNCTION), <i32>load<u16>(q, Q_QUANTITY));
}

/** Samples of every point of request `q` from the good response data at `data`. */
function decode(ts: f64, q: usize, data: usize): void {
  let entry = entries + <usize>(load<u32>(q, Q_FIRST) * RECORD_SIZE);
  const end = entry + <usize>(load<u32>(q, Q_COUNT) * RECORD_SIZE);
  for (; entry < end; entry += RECORD_SIZE) {
    const id = load<u32>(entry, R_ID);
    const type = <i32>load<u8>(entry, R_TYPE);
    const p = data + <usize>load<u16>(entry, R_POSITION);
    const order = <u32>load<u8>(entry, R_ORDER);
    let v: f64;
    let kind = TYPE_NUMBER;
    if (type <= T_UINT16) {
      const x = register16(p, order);
      if (type == T_BOOL) {
        v = <f64>((x >>> load<u8>(entry, R_BIT)) & 1);
        kind = TYPE_BOOL;
      } else {
        v = type == T_INT16 ? <f64><i16>x : <f64>x;
      }
    } else if (type == T_COIL) {
      v = <f64>coil(data, <u32>load<u16>(entry, R_POSITION));
      kind = TYPE_BOOL;
    } else if (type == T_STRING) {
      const length = text(p, <i32>load<u16>(entry, R_SPAN), order, heap + <usize>heapLength);
      // Text heap offset, then length: never a NaN's bits (that would take a length of 2^31 - 2^20 or more).
      v = reinterpret<f64>(<u64>heapLength | (<u64>length << 32));
      heapLength += length;
      kind = TYPE_TEXT;
    } else if (type >= T_INT64) {
      const x = register64(p, order);
      // Integers beyond 2^53 become the nearest f64 (documented in the manifest).
      v = type == T_FLOAT64 ? reinterpret<f64>(x) : type == T_INT64 ? <f64><i64>x : <f64>x;
    } else {
      const x = register32(p, order);
      v = type == T_FLOAT32 ? <f64>reinterpret<f32>(x) : type == T_INT32 ? <f64><i32>x : <f64>x;
    }
    if (kind == TYPE_NUMBER) v = v * load<f64>(entry, R_SCALE) + load<f64>(entry, R_OFFSET);
    put(ts, v, id, GOOD, kind);
  }
}

/** NaN samples of quality `quality` for every point of request `q`. */
function fill(ts: f64, q: usize, quality: u8): void {
  let entry = entries + <usize>(load<u32>(q, Q_FIRST) * RECORD_SIZE);
  const end = entry + <usize>(load<u32>(q, Q_COUNT) * RECORD_SIZE);
  for (; entry < end; entry += RECORD_SIZE) put(ts, NaN, load<u32>(entry, R_ID), quality, TYPE_NUMBER);
}

/** The request record `rec` answers, or 0 when its request index is not in the plan. */
function planned(rec: usize): usize {
  const r = frameRequest(rec);
  return r < requestCount ? requests + <usize>(r * REQUEST_SIZE) : 0;
}

export function decodeFrames(batch: usize, size: i32): i32 {
  const end = batch + <usize>size;
  let samples = 0;
  let textRoom = 0;
  for (let rec = frameAt(batch, end); rec != 0; rec = frameAt(frameAfter(rec), end)) {
    const q = planned(rec);
    if (q == 0) continue;
    samples += <i32>load<u32>(q, Q_COUNT);
    textRoom += <i32>load<u32>(q, Q_TEXT);
  }
  const base = reserveOutput(BATCH_HEADER + samples * SAMPLE_SIZE + textRoom, 0);
  out = base + BATCH_HEADER;
  heap = out + <usize>(samples * SAMPLE_SIZE);
  heapLength = 0;

  for (let rec = frameAt(batch, end); rec != 0; rec = frameAt(frameAfter(rec), end)) {
    const r = frameRequest(rec);
    const q = planned(rec);
    if (q == 0) {
      noteUnplanned(frameDevice(rec), r);
      continue;
    }
    const ts = frameTs(rec);
    // A poll that timed out or lost its link is the host's to report (it knows host and port); a
    // response is this plugin's to judge.
    if (frameStatus(rec) != FRAME_OK) {
      fill(ts, q, NO_COMM);
      continue;
    }
    responseStart();
    const quality = check(rec, r, q);
    responseSettle(r);
    if (quality == GOOD) {
      decode(ts, q, frameResponseAt(rec) + <usize>(pduOffset(<i32>load<u16>(q, Q_DEVICE)) + DATA_OFFSET));
    } else {
      fill(ts, q, quality);
    }
  }
  store<u32>(base, samples, 0);
  store<u32>(base, heapLength, 4);
  setResult(base);
  return BATCH_HEADER + samples * SAMPLE_SIZE + <i32>heapLength;
}
