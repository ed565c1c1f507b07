/**
 * Host-side writer of frame records (docs/plugin-abi.md, "Frame batch"). The record format is the
 * ring's own record format, so the poller writes a record straight into the ingress ring and the
 * worker hands a run of records to the decoder with one copy.
 */
import { FRAME_HEADER, FrameField, pad4 } from './abi.js';

export interface FrameContext {
  device: number;
  request: number;
  status: number;
  seq: number;
  ts: number;
  /** ABI 1.5, pushed frames: the point id the resource maps to (NO_POINT_PUSHED: the whole device); 0 in other records. */
  point?: number;
}

/** Bytes of the record, from its u32 length field on (what a ring reservation must hold, unpadded). */
export function frameRecordPayloadLength(reqLen: number, respLen: number): number {
  return FRAME_HEADER - 4 + reqLen + respLen;
}

/**
 * Writes the record's payload (everything after the u32 length the ring writes itself) at
 * `bytes[at..]`. `view` must cover the same memory as `bytes`.
 */
export function writeFramePayload(bytes: Uint8Array, view: DataView, at: number, ctx: FrameContext, request: Uint8Array, response?: Uint8Array): void {
  const base = at - 4; // field offsets in abi.ts count from the length field
  view.setUint16(base + FrameField.device, ctx.device, true);
  view.setUint16(base + FrameField.request, ctx.request, true);
  view.setUint16(base + FrameField.status, ctx.status, true);
  view.setUint16(base + FrameField.seq, ctx.seq, true);
  view.setUint32(base + 12, ctx.point ?? 0, true);
  view.setFloat64(base + FrameField.ts, ctx.ts, true);
  view.setUint16(base + FrameField.reqLen, request.byteLength, true);
  view.setUint16(base + FrameField.respLen, response?.byteLength ?? 0, true);
  view.setUint32(base + 28, 0, true);
  bytes.set(request, base + FRAME_HEADER);
  if (response) bytes.set(response, base + FRAME_HEADER + request.byteLength);
}

/** A standalone frame batch of the given records (tests and benchmarks; the daemon uses the ring). */
export function encodeFrameBatch(records: ReadonlyArray<{ ctx: FrameContext; request: Uint8Array; response?: Uint8Array }>): Uint8Array {
  const sizes = records.map((r) => pad4(4 + frameRecordPayloadLength(r.request.byteLength, r.response?.byteLength ?? 0)));
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  records.forEach((r, i) => {
    view.setUint32(at, frameRecordPayloadLength(r.request.byteLength, r.response?.byteLength ?? 0), true);
    writeFramePayload(out, view, at + 4, r.ctx, r.request, r.response);
    at += sizes[i]!;
  });
  return out;
}
