/**
 * A ring is a SharedArrayBuffer holding a single-producer single-consumer queue of length-prefixed
 * records (header layout in layout.ts). This module creates rings, opens them with validation, and
 * reads their counters; `RingWriter` (writer.ts) and `RingReader` (reader.ts) are the two sides.
 *
 * Record format in the data area, identical to the frame and message batches of docs/plugin-abi.md so
 * that a run of records can be copied into a plugin's memory as one batch:
 *
 *   u32 little-endian payload length | payload | zero bytes up to a multiple of 4
 *
 * A record never straddles the end of the data area. When the next record does not fit before the
 * end, the writer puts WRAP_MARKER where its length would go and writes the record at index 0. Since
 * records are 4-aligned and the area is a power of two, there are always at least 4 bytes for that
 * marker. Cursors are u32 byte positions that wrap at 2^32: used bytes = (HEAD - TAIL) >>> 0.
 */
import { WgError } from '../errors.js';
import {
  CAPACITY,
  FULL_EVENTS,
  HEAD,
  HEADER_BYTES,
  HEADER_INTS,
  LENGTH_BYTES,
  MAGIC,
  MAGIC_VALUE,
  MAX_CAPACITY,
  MIN_CAPACITY,
  RECORDS_READ,
  RECORDS_WRITTEN,
  TAIL,
} from './layout.js';

/** Counters of one ring, as read at one moment (the two sides move independently). */
export interface RingStats {
  /** Bytes in the data area. */
  capacity: number;
  /** Bytes between TAIL and HEAD: committed records not yet released, wrap markers included. */
  usedBytes: number;
  /** Reservations refused because the ring was full (see FULL_EVENTS in layout.ts). */
  fullEvents: number;
  /** Records committed since creation. */
  recordsWritten: number;
  /** Records released since creation; `recordsWritten - recordsRead` are queued or in flight. */
  recordsRead: number;
}

/**
 * Views over one ring buffer, built once per side. `bytes` and `view` cover the data area only, so a
 * record's index in the data area is also its offset in them.
 */
export interface RingViews {
  readonly header: Int32Array;
  /** The header seen as 64-bit counters: a 64-bit slot `i` of layout.ts is `counters[i >> 1]`. */
  readonly counters: BigInt64Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly capacity: number;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * Allocates and initialises a ring with a data area of `capacityBytes`.
 * @param capacityBytes a power of two from 64 bytes to 1 GiB. The largest record is half of it.
 * @throws WgError WG_ERR_RING_CAPACITY otherwise.
 */
export function createRing(capacityBytes: number): SharedArrayBuffer {
  if (!isPowerOfTwo(capacityBytes) || capacityBytes < MIN_CAPACITY || capacityBytes > MAX_CAPACITY) {
    throw new WgError('WG_ERR_RING_CAPACITY', { detail: String(capacityBytes) });
  }
  const buffer = new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
  const header = new Int32Array(buffer, 0, HEADER_INTS);
  header[CAPACITY] = capacityBytes;
  // Published last and atomically: a thread that sees the magic also sees the capacity.
  Atomics.store(header, MAGIC, MAGIC_VALUE | 0);
  return buffer;
}

/**
 * Checks that `buffer` is a ring made by `createRing` and returns views over it.
 * @throws WgError WG_ERR_RING_NOT_A_RING naming what does not match.
 */
export function openRing(buffer: SharedArrayBuffer): RingViews {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new WgError('WG_ERR_RING_NOT_A_RING', { detail: 'not a SharedArrayBuffer' });
  }
  if (buffer.byteLength < HEADER_BYTES + MIN_CAPACITY) {
    throw new WgError('WG_ERR_RING_NOT_A_RING', { detail: `${buffer.byteLength} bytes is too small` });
  }
  const header = new Int32Array(buffer, 0, HEADER_INTS);
  if (Atomics.load(header, MAGIC) !== (MAGIC_VALUE | 0)) {
    throw new WgError('WG_ERR_RING_NOT_A_RING', { detail: 'no ring header (magic value missing)' });
  }
  const capacity = header[CAPACITY] as number;
  if (!isPowerOfTwo(capacity) || buffer.byteLength !== HEADER_BYTES + capacity) {
    throw new WgError('WG_ERR_RING_NOT_A_RING', {
      detail: `capacity ${capacity} disagrees with a buffer of ${buffer.byteLength} bytes`,
    });
  }
  return {
    header,
    counters: new BigInt64Array(buffer, 0, HEADER_INTS / 2),
    bytes: new Uint8Array(buffer, HEADER_BYTES, capacity),
    view: new DataView(buffer, HEADER_BYTES, capacity),
    capacity,
  };
}

/** Bytes a record with a payload of `payloadLen` bytes takes in the ring (and in a batch). */
export function recordBytes(payloadLen: number): number {
  return LENGTH_BYTES + ((payloadLen + 3) & ~3);
}

/** The largest payload a ring of `capacity` bytes accepts: its record takes half the ring. */
export function maxPayloadBytes(capacity: number): number {
  return capacity / 2 - LENGTH_BYTES;
}

/** Reads a ring's counters; callable from any thread that holds the buffer (metrics, status). */
export function ringStats(buffer: SharedArrayBuffer): RingStats {
  return readStats(openRing(buffer));
}

/** `ringStats` for a side that already holds the views. */
export function readStats({ header, counters, capacity }: RingViews): RingStats {
  // TAIL first: read the other way round, a release in between could put TAIL past the HEAD we read.
  const tail = Atomics.load(header, TAIL);
  const head = Atomics.load(header, HEAD);
  return {
    capacity,
    usedBytes: Math.min(capacity, (head - tail) >>> 0),
    fullEvents: Number(Atomics.load(counters, FULL_EVENTS >> 1)),
    recordsWritten: Number(Atomics.load(counters, RECORDS_WRITTEN >> 1)),
    recordsRead: Number(Atomics.load(counters, RECORDS_READ >> 1)),
  };
}
