/**
 * What a pipeline runner and its worker say to each other. Bulk data never travels this way: frames
 * and messages go through the rings; these are start-up data, logs, counters and shutdown.
 */
import type { ChainContext, StepCounters } from './chain.js';
import type { PluginKind } from '../engine/abi.js';
import type { CompiledPlugin } from '../engine/engine.js';
import type { MessagePort } from 'node:worker_threads';
import type { PlannedFraming, PollingCounters } from './poll-protocol.js';
import type { LogContext } from '../log-events.js';
import type { WorkerMemory } from '../memory/thread-memory.js';
import type { RuleEvent } from '../rules/rule-set.js';
import type { TimelineAnchor } from '../rules/rule-timeline.js';
import type { StatePatch } from '../rules/rule-state-map.js';
import type { WorkerStages } from './pipeline-stages.js';

/** A step as the worker receives it: a CompiledPlugin is structured-clonable (WebAssembly.Module is). */
export interface WorkerStep {
  plugin: CompiledPlugin;
  kind: PluginKind;
  with: unknown;
}

export interface WorkerData {
  context: ChainContext;
  steps: WorkerStep[];
  ingress: SharedArrayBuffer;
  egress: SharedArrayBuffer;
  control: SharedArrayBuffer;
  maxBatchRecords: number;
  maxBatchBytes: number;
  /** How often time-driven steps (wg_tick) run, ms. */
  tickMs: number;
  /** The worker's end of the poll channel (poll-protocol.ts); transferred. */
  pollPort: MessagePort;
  /** The worker's end of the control channel (control-protocol in swap-protocol.ts); transferred. */
  controlPort?: MessagePort;
  /** How long a swap may take to instantiate and configure the new versions in the worker, ms. */
  swapDeadlineMs?: number;
  /** Configure every step (and the polling instance), report ready or why not, and exit: `validate`. */
  dryRun?: boolean;
  /** The pipeline's compiled rules (src/host/rules), when it has any. */
  rules?: CompiledPlugin;
  /** Their state as last saved (rule-state-file.ts), to go on from. */
  rulesState?: Uint8Array;
  /** Without rulesState: what a saved state of another run has of these rules (rule-state-map.ts). */
  rulesPatches?: StatePatch[];
  /** Where the rules' timeline starts (rule-timeline.ts): the same for every worker of a run. */
  rulesTimeline?: TimelineAnchor;
}

export type WorkerMessage =
  /** `plan`: the decoder's request plan (one device index per request), when it polls. */
  | { type: 'ready'; plan?: Uint32Array; framing?: PlannedFraming }
  | { type: 'log'; level: number; message: string; context: LogContext }
  /** `rulesEvalErrors`: batches or ticks on which the compiled rules trapped, in this worker. */
  | { type: 'counters'; steps: StepCounters[]; batchesDropped: number; polling?: PollingCounters; memory: WorkerMemory; stages: WorkerStages; rulesEvalErrors?: number }
  | { type: 'configure-failed'; code: string; message: string; context: Record<string, unknown> }
  | { type: 'stopped' }
  /** What the rules made on a batch or tick whose output was committed, in order. */
  | { type: 'rules'; events: RuleEvent[] }
  /** The rules' state to save (after events, every 10 s and at the end); `restored`: at start, whether a saved one was taken. */
  | { type: 'rules-state'; state?: Uint8Array; restored?: boolean };

export type RunnerMessage = { type: 'stop' };
