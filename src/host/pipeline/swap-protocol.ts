/**
 * The control channel between a pipeline runner and its worker (its own MessagePort, apart from the
 * poll channel): requests the worker acts on between two batches, each answered once with its `id`.
 *
 * - `recent`: copies of the last inputs of some steps and the points they see, for a canary run.
 * - `swap`: put new versions of some steps live, all or none (see StepChain.prepare and commit).
 * - `drain`: flush what every step holds (wg_drain, else wg_tick(+Infinity)) into the egress ring.
 * - `status`: which plugins run now, how many batches the worker completed, each step's counters now.
 * - `watch`: steps whose traps the worker reports (a `trap` event), for the crash-loop watch.
 */
import type { Handoff, StepCounters } from './chain.js';
import type { WorkerStep } from './worker-protocol.js';

export type ControlRequest =
  | { id: number; op: 'recent'; steps: number[] }
  | { id: number; op: 'swap'; steps: Array<{ index: number; step: WorkerStep }> }
  | { id: number; op: 'drain' }
  | { id: number; op: 'status' }
  | { id: number; op: 'watch'; steps: number[] };

export interface RecentOfStep {
  index: number;
  inputs: Uint8Array[];
  /** The settings document the step was configured with (its points carry the units it sees). */
  doc: unknown;
}

export type ControlReply =
  | { id: number; ok: true; recent?: RecentOfStep[]; handoffs?: Array<{ index: number; handoff: Handoff }>; pauseMs?: number; plugins?: string[]; batchesDone?: number; counters?: StepCounters[] }
  | { id: number; ok: false; code: string; message: string; context: Record<string, unknown> };

/** What the worker says unasked on the control channel. */
export type ControlEvent = { event: 'trap'; step: number };
