import { WgError } from '../errors.js';
import { FULL_EVENTS, HEAD, IN_FLIGHT_END, LENGTH_BYTES, READER_WAITING, RECORDS_WRITTEN, TAIL, WAITING_SINCE, WRAP_MARKER, WRITER_WAITING } from './layout.js';
import { stampNow } from './wait-stamp.js';
import { maxPayloadBytes, openRing, readStats, type RingStats, type RingViews } from './ring.js';
import { waitUntil, waitUntilAsync, wakeIfWaiting } from './wait.js';

/**
 * The producer side of a ring. One live writer per ring: the I/O thread for the ingress ring, the
 * pipeline worker for the egress ring.
 *
 * Writing is two-phase. `reserve(n)` claims room for one record, writes its length prefix and its
 * zero padding, and returns where the payload goes in `bytes` / `view`; the caller fills exactly `n`
 * bytes there. `commit()` then publishes every record reserved since the last commit with a single
 * atomic store of HEAD, and wakes the reader if it sleeps. Nothing reserved is visible to the reader
 * before the commit, so commit once per batch, not once per record.
 *
 * Ownership: the writer may write only the bytes between its own position (HEAD plus what it has
 * reserved) and TAIL + capacity; everything from TAIL to HEAD belongs to the reader.
 *
 * When full: `reserve` returns -1 (and `write` false), changes nothing, and counts the refusal in
 * FULL_EVENTS. The caller decides: drop and count, or `waitForSpace` (which commits first, so that a
 * ring full of uncommitted records cannot wait on itself) and retry. Records are never overwritten.
 *
 * The writer role may move to another thread only when the previous writer is dead (a restarted
 * pipeline worker writing the egress ring): a new `RingWriter` resumes at HEAD, and whatever the dead
 * one reserved but did not commit is gone, as it was never published.
 */
export class RingWriter {
  /** The data area as bytes; payload offsets returned by `reserve` index into it. */
  readonly bytes: Uint8Array;
  /** The data area as a DataView (use little-endian accessors, as the batch formats do). */
  readonly view: DataView;
  /** Bytes in the data area. */
  readonly capacity: number;
  /** Largest payload `reserve` accepts: its record takes half the ring. */
  readonly maxPayload: number;

  readonly #ring: RingViews;
  readonly #header: Int32Array;
  readonly #counters: BigInt64Array;
  readonly #mask: number;
  /** Position after the last reserved record (int32 bit pattern of the u32 position). */
  #head: number;
  /** HEAD as last published. */
  #committed: number;
  /** TAIL as last read. It only moves forward, so a stale value underestimates free space: safe. */
  #tail: number;
  #reservedRecords = 0;
  #recordsWritten: number;
  #fullEvents: number;

  /** @throws WgError WG_ERR_RING_NOT_A_RING when `buffer` was not made by `createRing`. */
  constructor(buffer: SharedArrayBuffer) {
    const ring = openRing(buffer);
    this.#ring = ring;
    this.#header = ring.header;
    this.#counters = ring.counters;
    this.bytes = ring.bytes;
    this.view = ring.view;
    this.capacity = ring.capacity;
    this.maxPayload = maxPayloadBytes(ring.capacity);
    this.#mask = ring.capacity - 1;
    this.#head = this.#committed = Atomics.load(this.#header, HEAD);
    this.#tail = Atomics.load(this.#header, TAIL);
    this.#recordsWritten = Number(Atomics.load(this.#counters, RECORDS_WRITTEN >> 1));
    this.#fullEvents = Number(Atomics.load(this.#counters, FULL_EVENTS >> 1));
  }

  /**
   * Claims room for a record of `payloadLen` bytes.
   * @returns the offset in `bytes` / `view` where the payload goes (4-aligned), or -1 when the ring
   *   lacks space (counted in FULL_EVENTS; nothing changed).
   * @throws WgError WG_ERR_RING_RECORD_TOO_LARGE when `payloadLen` exceeds `maxPayload`.
   */
  reserve(payloadLen: number): number {
    if (payloadLen >>> 0 !== payloadLen || payloadLen > this.maxPayload) this.#tooLarge(payloadLen);
    const record = (payloadLen + LENGTH_BYTES + 3) & ~3;
    const capacity = this.capacity;
    let head = this.#head;
    let index = head & this.#mask;
    const room = capacity - index;
    // A record that does not fit before the end also costs the bytes it skips there.
    const needed = record <= room ? record : room + record;
    if (needed > capacity - ((head - this.#tail) | 0)) {
      this.#tail = Atomics.load(this.#header, TAIL);
      if (needed > capacity - ((head - this.#tail) | 0)) {
        Atomics.store(this.#counters, FULL_EVENTS >> 1, BigInt(++this.#fullEvents));
        return -1;
      }
    }
    const view = this.view;
    if (record > room) {
      view.setUint32(index, WRAP_MARKER, true);
      head = (head + room) | 0;
      index = 0;
    }
    // The ring holds an earlier lap's bytes: zero the last word, which holds the padding; the caller
    // overwrites its payload bytes.
    if ((payloadLen & 3) !== 0) view.setUint32(index + record - 4, 0, true);
    view.setUint32(index, payloadLen, true);
    this.#head = (head + record) | 0;
    this.#reservedRecords++;
    return index + LENGTH_BYTES;
  }

  /** Publishes every record reserved since the last commit, and wakes the reader if it sleeps. */
  commit(): void {
    if (this.#head === this.#committed) return;
    this.#recordsWritten += this.#reservedRecords;
    this.#reservedRecords = 0;
    // The counter goes first so that recordsWritten never lags what the reader can see.
    Atomics.store(this.#counters, RECORDS_WRITTEN >> 1, BigInt(this.#recordsWritten));
    // Every earlier record already read: these are now the oldest unread, so their wait starts here.
    if (Atomics.load(this.#header, IN_FLIGHT_END) === this.#committed) Atomics.store(this.#header, WAITING_SINCE, stampNow());
    Atomics.store(this.#header, HEAD, this.#head);
    this.#committed = this.#head;
    wakeIfWaiting(this.#header, READER_WAITING, HEAD);
  }

  /**
   * Reserves and copies one record; it is published by the next `commit()`.
   * @returns false when the ring lacks space (counted, nothing written).
   */
  write(payload: Uint8Array): boolean {
    const offset = this.reserve(payload.length);
    if (offset < 0) return false;
    this.bytes.set(payload, offset);
    return true;
  }

  /** Bytes not used by committed or reserved records. Wrap-around can waste up to one record's worth. */
  freeBytes(): number {
    this.#tail = Atomics.load(this.#header, TAIL);
    return this.capacity - ((this.#head - this.#tail) | 0);
  }

  /** Whether `reserve(payloadLen)` would succeed now. Counts nothing. */
  fits(payloadLen: number): boolean {
    const record = (payloadLen + LENGTH_BYTES + 3) & ~3;
    const room = this.capacity - (this.#head & this.#mask);
    const needed = record <= room ? record : room + record;
    return needed <= this.freeBytes();
  }

  /**
   * Commits, then waits without blocking the thread until a record of `payloadLen` bytes fits.
   * For the main thread. Resolves with false on timeout.
   */
  waitForSpace(payloadLen: number, timeoutMs = Infinity): Promise<boolean> {
    this.#prepareWait(payloadLen);
    return waitUntilAsync(this.#header, WRITER_WAITING, TAIL, () => this.fits(payloadLen), timeoutMs);
  }

  /**
   * Commits, then blocks until a record of `payloadLen` bytes fits. For worker threads only.
   * @returns false on timeout.
   */
  waitForSpaceSync(payloadLen: number, timeoutMs = Infinity): boolean {
    this.#prepareWait(payloadLen);
    return waitUntil(this.#header, WRITER_WAITING, TAIL, () => this.fits(payloadLen), timeoutMs);
  }

  /** The ring's counters, as `ringStats` reads them. */
  stats(): RingStats {
    return readStats(this.#ring);
  }

  #prepareWait(payloadLen: number): void {
    if (payloadLen >>> 0 !== payloadLen || payloadLen > this.maxPayload) this.#tooLarge(payloadLen);
    this.commit();
  }

  #tooLarge(payloadLen: number): never {
    throw new WgError('WG_ERR_RING_RECORD_TOO_LARGE', {
      detail: String(payloadLen),
      maxPayload: this.maxPayload,
      capacity: this.capacity,
    });
  }
}
