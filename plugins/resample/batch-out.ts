// The output sample batch. Records are appended in order; `finish` then copies the input's text heap
// whole behind them, so a text sample passed through keeps its heap offset and is copied as 24 bytes.
// (The SDK's SampleWriter re-packs text per sample; resample never makes text, so this is all it needs.)
import { reserveOutput, setResult, putSample, BATCH_HEADER, SAMPLE_SIZE, TYPE_NUMBER } from "../sdk";

let base: usize = 0;
let count: i32 = 0;
let cap: i32 = 0;

/** Starts a batch with room for `expected` samples (more are allowed). */
export function begin(expected: i32): void {
  count = 0;
  cap = expected + 64;
  base = reserveOutput(BATCH_HEADER + cap * SAMPLE_SIZE, 0);
}

function next(): usize {
  if (count == cap) {
    cap <<= 1;
    base = reserveOutput(BATCH_HEADER + cap * SAMPLE_SIZE, BATCH_HEADER + count * SAMPLE_SIZE);
  }
  return base + BATCH_HEADER + <usize>(count++) * SAMPLE_SIZE;
}

/** Appends the input record at `rec` unchanged. */
export function copy(rec: usize): void {
  memory.copy(next(), rec, SAMPLE_SIZE);
}

/** Appends an aggregate of point `p`. */
export function push(t: f64, v: f64, p: u32, q: u8, aggregate: u8): void {
  putSample(next(), t, v, p, q, TYPE_NUMBER, aggregate);
}

/** Writes the header and the text heap (`heapLen` bytes at `heap`); returns the batch's length. */
export function finish(heap: usize, heapLen: i32): i32 {
  const records = BATCH_HEADER + count * SAMPLE_SIZE;
  base = reserveOutput(records + heapLen, records);
  store<u32>(base, <u32>count, 0);
  store<u32>(base, <u32>heapLen, 4);
  memory.copy(base + <usize>records, heap, <usize>heapLen);
  setResult(base);
  return records + heapLen;
}
