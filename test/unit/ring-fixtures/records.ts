/**
 * Deterministic payloads for the ring tests, and a checker that parses batches with its own reading
 * of the format in docs/plugin-abi.md (u32 LE length, payload, zero padding to 4), not the ring's.
 *
 * Payload of record `seq`: u32 LE seq | u32 LE FNV-1a checksum of the rest | pseudo-random bytes.
 * Its length (8 to 8 + maxExtra bytes, so every padding case occurs) also derives from `seq`, so the
 * checker knows how long each record must be.
 */

/** xorshift32 seeded from the sequence number; never zero. */
function seedOf(seq: number): number {
  return (Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) | 1) >>> 0;
}

function nextRandom(state: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
}

export function payloadLength(seq: number, maxExtra: number): number {
  return 8 + (nextRandom(seedOf(seq)) % (maxExtra + 1));
}

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

/** Writes record `seq`'s payload (of `payloadLength(seq, maxExtra)` bytes) at `offset`. */
export function fillPayload(bytes: Uint8Array, view: DataView, offset: number, seq: number, length: number): void {
  let state = nextRandom(nextRandom(seedOf(seq)));
  for (let i = offset + 8; i < offset + length; i++) {
    state = nextRandom(state);
    bytes[i] = state & 0xff;
  }
  view.setUint32(offset, seq, true);
  view.setUint32(offset + 4, fnv1a(bytes, offset + 8, offset + length), true);
}

/** Running check of a stream of records; `error` holds the first problem found. */
export class StreamCheck {
  expected = 0;
  error: string | undefined;

  constructor(readonly maxExtra: number) {}

  /** Checks every record of one batch span: `[u32 len][payload][zero pad]...`. */
  span(span: Uint8Array): void {
    const view = new DataView(span.buffer, span.byteOffset, span.byteLength);
    let at = 0;
    while (at < span.length && this.error === undefined) {
      const length = view.getUint32(at, true);
      this.payload(span, view, at + 4, length);
      const padded = at + 4 + Math.ceil(length / 4) * 4;
      for (let i = at + 4 + length; i < padded; i++) {
        if (span[i] !== 0) this.fail(`record ${this.expected - 1}: padding byte ${i - at - 4 - length} is ${span[i]}`);
      }
      at = padded;
    }
    if (at !== span.length) this.fail(`span of ${span.length} bytes does not end on a record boundary (${at})`);
  }

  /** Checks one payload of `length` bytes at `offset` of `bytes`. */
  payload(bytes: Uint8Array, view: DataView, offset: number, length: number): void {
    if (this.error !== undefined) return;
    const seq = this.expected++;
    const got = view.getUint32(offset, true);
    if (got !== seq) return this.fail(`expected record ${seq}, got ${got}`);
    const wanted = payloadLength(seq, this.maxExtra);
    if (length !== wanted) return this.fail(`record ${seq}: ${length} bytes, expected ${wanted}`);
    const sum = fnv1a(bytes, offset + 8, offset + length);
    if (sum !== view.getUint32(offset + 4, true)) this.fail(`record ${seq}: checksum mismatch`);
  }

  fail(message: string): void {
    this.error ??= message;
  }
}
