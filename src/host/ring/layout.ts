/**
 * Byte layout of a ring's SharedArrayBuffer: a 128-byte header of Int32 slots, then the data area.
 *
 *   bytes 0..63    writer's cache line: slots only the producer writes (HEAD, its counters)
 *   bytes 64..127  reader's cache line: slots only the consumer writes (TAIL, its counters)
 *   bytes 128..    data area, `CAPACITY` bytes, a power of two
 *
 * Each side writes only its own line, so the producer publishing HEAD never invalidates the line the
 * consumer is storing TAIL into (no false sharing between the two hot cursors).
 *
 * Every constant below is an index into an `Int32Array` over the header, never a byte offset. The
 * 64-bit counters take two consecutive slots starting at an even index, and are read and written
 * through a `BigInt64Array` over the same header at `index / 2`, so a reader never sees a torn value
 * and the counters do not wrap in the life of a gateway (2^31 records pass in 43 s at 50 M/s).
 */

/** Int32 slots in the header: two 64-byte cache lines of 16 slots each. */
export const HEADER_INTS = 32;

/** Bytes before the data area (HEADER_INTS × 4); a multiple of 8 for the BigInt64 view. */
export const HEADER_BYTES = HEADER_INTS * 4;

// --- writer's line (slots 0..15) ---

/**
 * Position just after the last committed record: a u32 byte count that wraps naturally, stored as
 * its int32 bit pattern. Only the writer stores it (once per commit); `HEAD & (CAPACITY - 1)` is the
 * index in the data area, `(HEAD - TAIL) >>> 0` the bytes in use.
 */
export const HEAD = 0;

/**
 * Count of writer waits in progress on TAIL (normally 0 or 1; a count, not a flag, so that two
 * overlapping async waits cannot clear each other). The reader notifies TAIL only when non-zero.
 */
export const WRITER_WAITING = 1;

/** 64-bit (slots 2 and 3): records committed since the ring was created. Stored at each commit. */
export const RECORDS_WRITTEN = 2;

/**
 * 64-bit (slots 4 and 5): reservations refused because the ring lacked space. Counts refusals, not
 * episodes: a producer that retries without waiting counts each retry.
 */
export const FULL_EVENTS = 4;

/** Size of the data area in bytes, written once by `createRing`; a power of two. */
export const CAPACITY = 6;

/** Holds MAGIC_VALUE, so that a SharedArrayBuffer that is not a ring is refused on open. */
export const MAGIC = 7;

/**
 * When the oldest unread record was committed: the writer's clock in microseconds (absolute, the same
 * on every thread of the process), as a wrapping u32 stored as its int32 bit pattern. The writer stores
 * it at a commit that finds every earlier record already read, so the reader can tell how long the
 * oldest record of a batch waited in the ring (wait-stamp.ts). A wait is measured correctly up to
 * 2^31 µs (35 minutes); a statistic, never used for control.
 */
export const WAITING_SINCE = 8;

// --- reader's line (slots 16..31) ---

/**
 * Position of the oldest record not yet released; same encoding as HEAD. Only the consumer stores it
 * (once per release). Bytes from TAIL to HEAD belong to the reader, the rest to the writer.
 */
export const TAIL = 16;

/** Count of reader waits in progress on HEAD; the writer notifies HEAD only when non-zero. */
export const READER_WAITING = 17;

/** 64-bit (slots 18 and 19): records released by the consumer since the ring was created. */
export const RECORDS_READ = 18;

/**
 * Position after the last record the consumer has read (acquired), released or not. Equal to TAIL
 * when nothing is in flight. After a consumer dies mid-batch, the watchdog releases up to here to
 * skip the batch that killed it, or leaves it for the next consumer to retry.
 */
export const IN_FLIGHT_END = 20;

// --- constants of the format ---

/** 'WGR1' read as a little-endian u32: wasmgate ring, layout version 1. */
export const MAGIC_VALUE = 0x31524757;

/** Records start at, and are padded to, multiples of 4 bytes, so every length prefix is aligned. */
export const RECORD_ALIGN = 4;

/** Bytes of the u32 little-endian length prefix before each payload. */
export const LENGTH_BYTES = 4;

/**
 * Written in place of a length prefix when the next record does not fit before the end of the data
 * area; the reader jumps to index 0. As an int32 it is -1, which no length can be (lengths are at
 * most CAPACITY / 2 ≤ 2^29).
 */
export const WRAP_MARKER = 0xffffffff;

/** Smallest data area: room for a few minimal records, and a whole number of cache lines. */
export const MIN_CAPACITY = 64;

/** Largest data area (1 GiB): keeps every position difference and length a positive int32. */
export const MAX_CAPACITY = 2 ** 30;
