// Reading and writing sample batches (docs/plugin-abi.md, "Sample batch"). Record accessors take the
// record's address so hot loops stay free of bounds checks and allocation.
import { reserveOutput, setResult, grownCapacity, regrow } from "./io";
import { TYPE_TEXT } from "./status";

export const BATCH_HEADER: i32 = 8;
export const SAMPLE_SIZE: i32 = 24;

@inline export function sampleCount(batch: usize): i32 { return <i32>load<u32>(batch); }
@inline export function heapBytes(batch: usize): i32 { return <i32>load<u32>(batch, 4); }
/** Address of sample `i` of the batch at `batch`. */
@inline export function sampleAt(batch: usize, i: i32): usize { return batch + BATCH_HEADER + <usize>i * SAMPLE_SIZE; }
/** Address of the batch's text heap. */
@inline export function heapAt(batch: usize): usize { return batch + BATCH_HEADER + <usize>sampleCount(batch) * SAMPLE_SIZE; }

@inline export function ts(rec: usize): f64 { return load<f64>(rec, 0); }
@inline export function value(rec: usize): f64 { return load<f64>(rec, 8); }
@inline export function point(rec: usize): u32 { return load<u32>(rec, 16); }
@inline export function quality(rec: usize): u8 { return load<u8>(rec, 20); }
@inline export function type(rec: usize): u8 { return load<u8>(rec, 21); }
@inline export function aggregate(rec: usize): u8 { return load<u8>(rec, 22); }
@inline export function textOffset(rec: usize): u32 { return load<u32>(rec, 8); }
@inline export function textLength(rec: usize): u32 { return load<u32>(rec, 12); }

/**
 * The one NaN a plugin writes (docs/plugin-abi.md, "NaN"): positive, quiet, no payload. WebAssembly
 * lets the processor pick the sign and payload of a NaN that arithmetic makes (x86-64 gives
 * 0xfff8..., arm64 0x7ff8...), so every double the SDK writes into a sample goes through `canonical`
 * and the same input gives the same bytes on every gateway. Records passed on whole keep their bytes.
 */
export const CANONICAL_NAN: u64 = 0x7ff8000000000000;

/** `x`, with any NaN (whatever its sign and payload) replaced by the canonical NaN. */
@inline export function canonical(x: f64): f64 {
  return x != x ? reinterpret<f64>(CANONICAL_NAN) : x;
}

@inline export function setValue(rec: usize, v: f64): void { store<f64>(rec, canonical(v), 8); }
@inline export function setQuality(rec: usize, q: u8): void { store<u8>(rec, q, 20); }
@inline export function setTs(rec: usize, t: f64): void { store<f64>(rec, canonical(t), 0); }

/**
 * Writes a whole numeric (or bool) sample at `rec`: timestamp and value canonical, the last word
 * quality, type, aggregate and a zero reserved byte. Every plugin that makes a sample makes it here.
 */
@inline export function putSample(rec: usize, t: f64, v: f64, pointId: u32, q: u8, kind: u8, agg: u8): void {
  store<f64>(rec, canonical(t), 0);
  store<f64>(rec, canonical(v), 8);
  store<u32>(rec, pointId, 16);
  store<u32>(rec, <u32>q | (<u32>kind << 8) | (<u32>agg << 16), 20);
}

/** Text of a text sample, decoded. Allocates: keep it off hot paths. */
export function text(batch: usize, rec: usize): string {
  return String.UTF8.decodeUnsafe(heapAt(batch) + <usize>textOffset(rec), <usize>textLength(rec));
}

/**
 * Builds a sample batch in the output region. Samples are appended in order; text bytes go to a
 * scratch heap that `finish()` places after the samples.
 */
export class SampleWriter {
  private base: usize = 0;
  private count: i32 = 0;
  private cap: i32 = 0;
  private heap: usize = 0;
  private heapLen: i32 = 0;
  private heapCap: i32 = 0;

  /** Starts a batch; `expected` samples are reserved up front (more are allowed). */
  begin(expected: i32): void {
    this.count = 0;
    this.heapLen = 0;
    this.cap = expected > 16 ? expected : 16;
    this.base = reserveOutput(BATCH_HEADER + this.cap * SAMPLE_SIZE, 0);
  }

  @inline private next(): usize {
    if (this.count == this.cap) {
      this.cap <<= 1;
      this.base = reserveOutput(BATCH_HEADER + this.cap * SAMPLE_SIZE, BATCH_HEADER + this.count * SAMPLE_SIZE);
    }
    return this.base + BATCH_HEADER + <usize>(this.count++) * SAMPLE_SIZE;
  }

  /** Appends a numeric (or bool) sample. */
  @inline push(t: f64, v: f64, pointId: u32, q: u8, kind: u8, agg: u8): void {
    putSample(this.next(), t, v, pointId, q, kind, agg);
  }

  /** Appends a text sample whose UTF-8 bytes are at `ptr`. */
  pushText(t: f64, pointId: u32, q: u8, ptr: usize, len: i32): void {
    const offset = this.appendHeap(ptr, len);
    const rec = this.next();
    store<f64>(rec, canonical(t), 0);
    store<u32>(rec, <u32>offset, 8);
    store<u32>(rec, <u32>len, 12);
    store<u32>(rec, pointId, 16);
    store<u8>(rec, q, 20);
    store<u8>(rec, TYPE_TEXT, 21);
    store<u16>(rec, 0, 22);
  }

  /** Copies sample `rec` of the batch at `batch` unchanged (text included). */
  copy(batch: usize, rec: usize): void {
    if (type(rec) == TYPE_TEXT) {
      this.pushText(ts(rec), point(rec), quality(rec), heapAt(batch) + <usize>textOffset(rec), <i32>textLength(rec));
      return;
    }
    memory.copy(this.next(), rec, SAMPLE_SIZE);
  }

  private appendHeap(ptr: usize, len: i32): i32 {
    const need = this.heapLen + len;
    if (need > this.heapCap) {
      const cap = grownCapacity(this.heapCap, need);
      this.heap = regrow("text heap", this.heap, cap, this.heapLen);
      this.heapCap = cap;
    }
    const offset = this.heapLen;
    memory.copy(this.heap + <usize>offset, ptr, <usize>len);
    this.heapLen = need;
    return offset;
  }

  get length(): i32 { return this.count; }

  /** Drops the samples appended after the first `count` (a record found malformed halfway). Text they added stays unused in the heap. */
  truncate(count: i32): void {
    if (count >= 0 && count < this.count) this.count = count;
  }

  /** Writes the header, places the text heap, declares the output; returns the output length. */
  finish(): i32 {
    const recordsEnd = BATCH_HEADER + this.count * SAMPLE_SIZE;
    const total = recordsEnd + this.heapLen;
    this.base = reserveOutput(total, recordsEnd);
    store<u32>(this.base, <u32>this.count, 0);
    store<u32>(this.base, <u32>this.heapLen, 4);
    if (this.heapLen > 0) memory.copy(this.base + <usize>recordsEnd, this.heap, <usize>this.heapLen);
    setResult(this.base);
    return total;
  }
}
