/**
 * Host-side codec of the sample batch (docs/plugin-abi.md, "Sample batch"). Used where the host must
 * read or build samples itself: tests, benchmarks, the rules engine. The pipeline hot path moves
 * batches between plugins as bytes and never decodes them.
 */
import { SAMPLE_BATCH_HEADER, SAMPLE_SIZE, SampleField, SampleType } from './abi.js';

export interface Sample {
  ts: number;
  value: number | string;
  point: number;
  quality: number;
  /** SampleType; derived from `value` when omitted (string -> text, else number). */
  type?: number;
  aggregate?: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeSamples(samples: readonly Sample[]): Uint8Array {
  const texts = samples.map((s) => (typeof s.value === 'string' ? utf8Encoder.encode(s.value) : undefined));
  const heapBytes = texts.reduce((n, t) => n + (t?.byteLength ?? 0), 0);
  const recordsEnd = SAMPLE_BATCH_HEADER + samples.length * SAMPLE_SIZE;
  const out = new Uint8Array(recordsEnd + heapBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, samples.length, true);
  view.setUint32(4, heapBytes, true);
  let heapPos = 0;
  samples.forEach((s, i) => {
    const at = SAMPLE_BATCH_HEADER + i * SAMPLE_SIZE;
    const text = texts[i];
    view.setFloat64(at + SampleField.ts, s.ts, true);
    if (text) {
      view.setUint32(at + SampleField.value, heapPos, true);
      view.setUint32(at + SampleField.value + 4, text.byteLength, true);
      out.set(text, recordsEnd + heapPos);
      heapPos += text.byteLength;
    } else {
      view.setFloat64(at + SampleField.value, s.value as number, true);
    }
    view.setUint32(at + SampleField.point, s.point, true);
    view.setUint8(at + SampleField.quality, s.quality);
    view.setUint8(at + SampleField.type, s.type ?? (text ? SampleType.text : SampleType.number));
    view.setUint8(at + SampleField.aggregate, s.aggregate ?? 0);
  });
  return out;
}

export function decodeSamples(batch: Uint8Array): Sample[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const count = view.getUint32(0, true);
  const recordsEnd = SAMPLE_BATCH_HEADER + count * SAMPLE_SIZE;
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    const at = SAMPLE_BATCH_HEADER + i * SAMPLE_SIZE;
    const type = view.getUint8(at + SampleField.type);
    let value: number | string;
    if (type === SampleType.text) {
      const offset = view.getUint32(at + SampleField.value, true);
      const length = view.getUint32(at + SampleField.value + 4, true);
      value = utf8Decoder.decode(batch.subarray(recordsEnd + offset, recordsEnd + offset + length));
    } else {
      value = view.getFloat64(at + SampleField.value, true);
    }
    samples.push({
      ts: view.getFloat64(at + SampleField.ts, true),
      value,
      point: view.getUint32(at + SampleField.point, true),
      quality: view.getUint8(at + SampleField.quality),
      type,
      aggregate: view.getUint8(at + SampleField.aggregate),
    });
  }
  return samples;
}
