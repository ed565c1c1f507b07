/**
 * What a pipeline runner and its worker say to each other. Bulk data never travels this way: frames
 * and messages go through the rings; these are start-up data, logs, counters and shutdown.
 */
import type { ChainContext, StepCounters } from './chain.js';
import type { PluginKind } from '../engine/abi.js';
import type { AbiFacts } from '../engine/abi-check.js';

export interface WorkerStep {
  name: string;
  file: string;
  module: WebAssembly.Module;
  facts: AbiFacts;
  size: number;
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
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'log'; level: number; message: string; context: Record<string, unknown> }
  | { type: 'counters'; steps: StepCounters[]; batchesDropped: number }
  | { type: 'configure-failed'; code: string; message: string; context: Record<string, unknown> }
  | { type: 'stopped' };

export type RunnerMessage = { type: 'stop' };
