/**
 * The control block shared between a pipeline runner (main thread) and its worker: named slots in a
 * small SharedArrayBuffer, read by the watchdog. One Int32Array and one Float64Array over the same
 * buffer; the Float64 slots live after the Int32 ones.
 */

/** Int32 slot: what the worker is doing (a WorkerState). Changed with compareExchange only. */
export const STATE = 0;
/** Int32 slot: index of the step the worker is in (valid in PROCESSING and CONFIGURING). */
export const STEP = 1;
// The batch being processed ends where the ingress ring's reader says (RingReader.inFlightEnd): the
// watchdog skips to there when the batch hangs, so it needs no slot of its own here.
/** Int32 slot: batches the worker completed; the watchdog reads progress from it. */
export const BATCHES_DONE = 2;
/** Int32 slot: which plugin call is being watched (a WatchedCall), so a kill names what hung. */
export const CALL = 3;
const INT_SLOTS = 8;

/** Float64 slot (index into the Float64Array): monotonicMs() when the watched call started. */
export const STARTED_AT = INT_SLOTS / 2;
const FLOAT_SLOTS = 2;

export const CONTROL_BYTES = INT_SLOTS * 4 + FLOAT_SLOTS * 8;

export const WorkerState = {
  /** Waiting for input; nothing to watch. */
  IDLE: 0,
  /** Inside a plugin call; subject to the batch deadline. */
  PROCESSING: 1,
  /** Writing results; a kill now would duplicate output, so the watchdog leaves it alone. */
  COMMITTING: 2,
  /** The watchdog claimed the worker: it must not commit. */
  KILLED: 3,
  /** Instantiating and configuring plugins; subject to the configure deadline. */
  CONFIGURING: 4,
} as const;

/**
 * The plugin calls the watchdog tells apart. Only a hung BATCH holds records in flight that the fresh
 * worker must skip; the others hang on no input of the ring.
 */
export const WatchedCall = {
  BATCH: 0,
  TICK: 1,
  STATS: 2,
  /** A call of the decoder's polling group (wg_requests, wg_request, wg_frame_length). */
  POLL: 3,
  CONFIGURE: 4,
  /** Putting new versions of steps live (instantiate, configure, hand state over); the configure deadline. */
  SWAP: 5,
  /** Flushing what every step holds (a `drain` on the control channel). */
  DRAIN: 6,
} as const;

export const WATCHED_CALL_NAMES = ['a batch', 'a tick', 'reading its counters', 'framing device traffic', 'configuring', 'a swap', 'draining'] as const;

export interface ControlViews {
  ints: Int32Array;
  floats: Float64Array;
}

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES);
}

export function openControl(buffer: SharedArrayBuffer): ControlViews {
  return { ints: new Int32Array(buffer, 0, INT_SLOTS), floats: new Float64Array(buffer, 0, INT_SLOTS / 2 + FLOAT_SLOTS) };
}

/**
 * Milliseconds on CLOCK_MONOTONIC. Deadlines are measured with it, never with the wall clock: a Pi
 * without a real-time clock steps its wall clock by hours at NTP sync, which would kill a healthy
 * worker (step forward) or blind the watchdog (step back). `performance.now()` will not do either:
 * its origin is per thread, and the worker and the watchdog compare each other's readings.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
