import { WgError } from '../errors.js';
import { HEAD, IN_FLIGHT_END, LENGTH_BYTES, READER_WAITING, RECORDS_READ, TAIL, WAITING_SINCE, WRITER_WAITING } from './layout.js';
import { msSince } from './wait-stamp.js';
import { openRing, readStats, type RingStats, type RingViews } from './ring.js';
import { waitUntil, waitUntilAsync, wakeIfWaiting } from './wait.js';

/** Records handed out by `RingReader.acquire`, still in ring memory until released. */
export interface RingBatch {
  /**
   * One view of whole records, or two when the batch wraps past the end of the data area; wrap
   * markers are not included. Each view is a run of `[u32 len][payload][pad to 4]`, the frame and
   * message batch format of docs/plugin-abi.md, ready to be copied into a plugin as is. The views
   * alias ring memory: valid until `release`, after which the writer reuses the bytes.
   */
  spans: Uint8Array[];
  /** Records in the batch (≥ 1). */
  records: number;
  /** Total bytes of `spans`. */
  bytes: number;
  /** Position after the batch: pass it to `release`. Opaque (a u32 cursor as an int32 value). */
  end: number;
}

/** The int32 value of a wrap marker (0xFFFFFFFF). */
const WRAP = -1;

/**
 * The consumer side of a ring: the pipeline worker for the ingress ring, the main thread for the
 * egress ring.
 *
 * Reading is two-phase too. `acquire` hands out the next records as views into ring memory and
 * moves a private read cursor; `release(end)` gives their bytes back to the writer with one atomic
 * store of TAIL, and wakes the writer if it waits for space. Several batches may be acquired before
 * releasing; `release` frees everything up to the position it is given. `next()` is the one-record
 * convenience: each call releases everything read before it.
 *
 * Ownership: the reader may read only between TAIL and HEAD, and never writes the data area. A view
 * it returned stays valid until the record is released; copy what you keep.
 *
 * One live reader per ring. The consumer role may move to another thread only when the previous
 * consumer is dead or done (a pipeline worker killed by the watchdog): a new `RingReader` resumes at
 * TAIL, so what the dead one acquired but did not release is read again, unless the watchdog first
 * skips it with `release(inFlightEnd())` from its own `RingReader`.
 */
export class RingReader {
  /** The data area as bytes; spans and records are views into it. */
  readonly bytes: Uint8Array;
  /** The data area as a DataView. */
  readonly view: DataView;
  /** Bytes in the data area. */
  readonly capacity: number;

  readonly #ring: RingViews;
  readonly #header: Int32Array;
  readonly #counters: BigInt64Array;
  readonly #mask: number;
  /** TAIL as this reader last stored or read it. */
  #tail: number;
  /** Position after the last record handed out; records from #tail to here are in flight. */
  #read: number;
  /** Records between #tail and #read. */
  #inFlight = 0;

  /** @throws WgError WG_ERR_RING_NOT_A_RING when `buffer` was not made by `createRing`. */
  constructor(buffer: SharedArrayBuffer) {
    const ring = openRing(buffer);
    this.#ring = ring;
    this.#header = ring.header;
    this.#counters = ring.counters;
    this.bytes = ring.bytes;
    this.view = ring.view;
    this.capacity = ring.capacity;
    this.#mask = ring.capacity - 1;
    this.#tail = this.#read = Atomics.load(this.#header, TAIL);
  }

  /**
   * Hands out the next committed records: as many as fit in `maxBytes` (counting prefixes and
   * padding) up to `maxRecords`. The first record is always included, even if it alone exceeds
   * `maxBytes`, so a batch limit smaller than a record cannot stall the ring.
   * @returns the batch, or null when no committed record is unread.
   */
  acquire(maxBytes = this.capacity, maxRecords = 0x7fffffff): RingBatch | null {
    const head = Atomics.load(this.#header, HEAD);
    let position = this.#read;
    if (position === head) return null;
    const view = this.view;
    const capacity = this.capacity;
    const spans: Uint8Array[] = [];
    let index = position & this.#mask;
    let start = index;
    let records = 0;
    let bytes = 0;
    while (position !== head && records < maxRecords) {
      const length = view.getInt32(index, true);
      if (length === WRAP) {
        if (index > start) spans.push(this.bytes.subarray(start, index));
        position = (position + capacity - index) | 0;
        index = start = 0;
        continue;
      }
      const record = (length + LENGTH_BYTES + 3) & ~3;
      if (records > 0 && bytes + record > maxBytes) break;
      bytes += record;
      records++;
      position = (position + record) | 0;
      index += record;
      if (index === capacity) {
        spans.push(this.bytes.subarray(start, capacity));
        index = start = 0;
      }
    }
    if (records === 0) return null;
    if (index > start) spans.push(this.bytes.subarray(start, index));
    this.#read = position;
    this.#inFlight += records;
    Atomics.store(this.#header, IN_FLIGHT_END, position);
    return { spans, records, bytes, end: position };
  }

  /**
   * Gives the bytes of every record before `end` back to the writer (one store of TAIL), and wakes
   * the writer if it waits for space. Callable by a reader other than the one that acquired, on
   * another thread, once that one is dead: the position is then checked by walking the records.
   * @param end a batch's `end`, `inFlightEnd()`, or any record boundary between TAIL and HEAD.
   * @returns the number of records released.
   * @throws WgError WG_ERR_RING_BAD_RELEASE when `end` is not a record boundary in that range.
   */
  release(end: number): number {
    end |= 0;
    const tail = Atomics.load(this.#header, TAIL);
    if (end === tail) return 0;
    let released: number;
    if (tail === this.#tail && end === this.#read) {
      released = this.#inFlight;
      this.#inFlight = 0;
    } else {
      released = this.#countRecords(tail, end);
      const partial = tail === this.#tail && (end - tail) >>> 0 < (this.#read - tail) >>> 0;
      if (partial) {
        this.#inFlight -= released;
      } else {
        this.#read = end;
        this.#inFlight = 0;
      }
    }
    Atomics.add(this.#counters, RECORDS_READ >> 1, BigInt(released));
    Atomics.store(this.#header, TAIL, end);
    this.#tail = end;
    wakeIfWaiting(this.#header, WRITER_WAITING, TAIL);
    return released;
  }

  /**
   * Releases everything read so far, then returns the payload of the next record as a view into ring
   * memory, valid until the next call to `next`, `acquire` or `release`.
   * @returns the payload, or null when no committed record is unread.
   */
  next(): Uint8Array | null {
    if (this.#read !== this.#tail) this.release(this.#read);
    let position = this.#read;
    if (position === Atomics.load(this.#header, HEAD)) return null;
    let index = position & this.#mask;
    let length = this.view.getInt32(index, true);
    if (length === WRAP) {
      position = (position + this.capacity - index) | 0;
      index = 0;
      length = this.view.getInt32(0, true);
    }
    this.#read = (position + ((length + LENGTH_BYTES + 3) & ~3)) | 0;
    this.#inFlight = 1;
    Atomics.store(this.#header, IN_FLIGHT_END, this.#read);
    return this.bytes.subarray(index + LENGTH_BYTES, index + LENGTH_BYTES + length);
  }

  /**
   * How long the oldest record just read had waited since its commit, ms (wait-stamp.ts): call it
   * right after an `acquire` or the first `next` that returned a record. A statistic: a commit racing
   * the read can make one figure too long.
   */
  waitedMs(): number {
    return msSince(Atomics.load(this.#header, WAITING_SINCE));
  }

  /** Position after the last record any reader of this ring handed out; equals TAIL when none is in flight. */
  inFlightEnd(): number {
    return Atomics.load(this.#header, IN_FLIGHT_END);
  }

  /** Blocks until a committed record is unread, or the timeout. For worker threads only. */
  waitForData(timeoutMs = Infinity): boolean {
    return waitUntil(this.#header, READER_WAITING, HEAD, () => this.#hasData(), timeoutMs);
  }

  /** Waits without blocking the thread until a committed record is unread; false on timeout. */
  waitForDataAsync(timeoutMs = Infinity): Promise<boolean> {
    return waitUntilAsync(this.#header, READER_WAITING, HEAD, () => this.#hasData(), timeoutMs);
  }

  /** The ring's counters, as `ringStats` reads them. */
  stats(): RingStats {
    return readStats(this.#ring);
  }

  #hasData(): boolean {
    return Atomics.load(this.#header, HEAD) !== this.#read;
  }

  /** Walks the records from `from` to `to`, which must land on a record boundary no later than HEAD. */
  #countRecords(from: number, to: number): number {
    const distance = (to - from) >>> 0;
    const head = Atomics.load(this.#header, HEAD);
    if (distance > (head - from) >>> 0) this.#badRelease(to);
    let position = from;
    let records = 0;
    while (position !== to) {
      const index = position & this.#mask;
      const length = this.view.getInt32(index, true);
      if (length === WRAP) {
        position = (position + this.capacity - index) | 0;
      } else {
        position = (position + ((length + LENGTH_BYTES + 3) & ~3)) | 0;
        records++;
      }
      if ((position - from) >>> 0 > distance) this.#badRelease(to);
    }
    return records;
  }

  #badRelease(end: number): never {
    throw new WgError('WG_ERR_RING_BAD_RELEASE', { detail: String(end >>> 0) });
  }
}
