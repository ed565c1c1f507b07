/**
 * Frame batches for the chain benchmarks: Modbus TCP FC3 responses to the decoder's own requests,
 * every register filled by `word(frame, point)`, as the poller would write them into the ring.
 */
import assert from 'node:assert/strict';
import { encodeFrameBatch } from '../src/host/engine/frame-record.js';
import type { PluginInstance } from '../src/host/engine/plugin-instance.js';

export interface FramePoint {
  register: number;
  type: 'int16' | 'uint16' | 'float32';
}

export interface FrameBatch {
  batch: Uint8Array;
  /** Byte offsets of each record's timestamp, to move the batch forward in time between runs. */
  tsOffsets: number[];
}

export function modbusFrameBatch(protocol: PluginInstance, points: FramePoint[], frames: number, value: (frame: number, point: number) => number, t0 = 1_700_000_000_000, stepMs = 100): FrameBatch {
  assert.equal(protocol.requests().length, 1, 'one request covers every point');
  const words = points.reduce((n, p) => Math.max(n, p.register + (p.type === 'float32' ? 2 : 1)), 0);
  const records = Array.from({ length: frames }, (_, f) => {
    const seq = f + 1;
    const request = protocol.request(0, seq);
    const response = new Uint8Array(9 + words * 2);
    const view = new DataView(response.buffer);
    view.setUint16(0, seq);
    view.setUint16(4, 3 + words * 2);
    response[6] = request[6]!;
    response[7] = 3;
    response[8] = words * 2;
    points.forEach((p, i) => {
      const at = 9 + p.register * 2;
      if (p.type === 'float32') view.setFloat32(at, value(f, i));
      else if (p.type === 'int16') view.setInt16(at, value(f, i));
      else view.setUint16(at, value(f, i));
    });
    return { ctx: { device: 0, request: 0, status: 0, seq, ts: t0 + f * stepMs }, request, response };
  });
  const batch = encodeFrameBatch(records);
  const tsOffsets: number[] = [];
  const view = new DataView(batch.buffer);
  for (let at = 0; at < batch.byteLength; at += (4 + view.getUint32(at, true) + 3) & ~3) tsOffsets.push(at + 16);
  return { batch, tsOffsets };
}

/** Moves every record of the batch `shiftMs` later. */
export function advance(frames: FrameBatch, shiftMs: number): void {
  const view = new DataView(frames.batch.buffer, frames.batch.byteOffset);
  for (const at of frames.tsOffsets) view.setFloat64(at, view.getFloat64(at, true) + shiftMs, true);
}
