/**
 * The baseline for the chain benchmark: the same steps as the Wasm chain (Modbus TCP response frames →
 * decode → scale → one JSON message per sample), written in plain TypeScript the way a careful
 * engineer would without plugins: DataView reads, one pass per step, JSON.stringify for the payload.
 * It reads the same frame batch bytes the decoder plugin receives.
 */
import { FRAME_HEADER } from '../../src/host/engine/abi.js';

export type BaselineType = 'int16' | 'uint16' | 'float32';

export interface BaselinePoint {
  name: string;
  unit: string;
  register: number;
  type: BaselineType;
  factor: number;
  offset: number;
}

export interface BaselineSample {
  ts: number;
  value: number;
  point: number;
  quality: number;
}

const QUALITY = ['good', 'suspect', 'bad', 'no-comm'];

/** Decodes every FC3/FC4 response in a frame batch; `pointsOfRequest[r]` lists request r's points. */
export function decodeFrames(batch: Uint8Array, pointsOfRequest: number[][], points: BaselinePoint[], out: BaselineSample[]): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let n = 0;
  for (let at = 0; at + 4 <= batch.byteLength; ) {
    const len = view.getUint32(at, true);
    const request = view.getUint16(at + 6, true);
    const ts = view.getFloat64(at + 16, true);
    const reqLen = view.getUint16(at + 24, true);
    const resp = at + FRAME_HEADER + reqLen;
    const data = resp + 9; // MBAP (7) + function + byte count
    for (const id of pointsOfRequest[request]!) {
      const p = points[id]!;
      const pos = data + (p.register - points[pointsOfRequest[request]![0]!]!.register) * 2;
      let value: number;
      if (p.type === 'int16') value = view.getInt16(pos, false);
      else if (p.type === 'uint16') value = view.getUint16(pos, false);
      else value = view.getFloat32(pos, false);
      out[n++] = { ts, value, point: id, quality: 0 };
    }
    at += (4 + len + 3) & ~3;
  }
  return n;
}

export function scaleSamples(samples: BaselineSample[], n: number, points: BaselinePoint[]): void {
  for (let i = 0; i < n; i++) {
    const s = samples[i]!;
    const p = points[s.point]!;
    s.value = s.value * p.factor + p.offset;
  }
}

export function encodeJson(samples: BaselineSample[], n: number, points: BaselinePoint[], out: string[]): number {
  for (let i = 0; i < n; i++) {
    const s = samples[i]!;
    const p = points[s.point]!;
    out[i] = JSON.stringify({ point: p.name, value: s.value, unit: p.unit, quality: QUALITY[s.quality], ts: s.ts });
  }
  return n;
}
