/**
 * The canary run of a swap (docs/plugin-abi.md, "Swapping"): the new versions, configured as the
 * pipeline configures them, run on copies of the recent real inputs of their steps in a worker of
 * their own, within a deadline. Only a canary that passes lets the swap go on; a failure is a
 * WG_ERR_SWAP_CANARY carrying what failed (a trap, an error status, the deadline) and the old version
 * stays live.
 */
import { Worker } from 'node:worker_threads';
import type { CompiledPlugin } from '../engine/engine.js';
import { WgError } from '../errors.js';

export interface CanaryStep {
  index: number;
  plugin: CompiledPlugin;
  doc: unknown;
  inputs: Uint8Array[];
}

export interface CanaryData {
  pipeline: string;
  steps: CanaryStep[];
  /** The wall time its one tick gets. */
  now: number;
}

export type CanaryVerdict = { ok: true; batches: number } | { ok: false; step: number; code: string; message: string };

const CANARY_WORKER_URL = new URL('./canary-worker.js', import.meta.url);

/** Resolves with the number of batches the canary ran; rejects with WG_ERR_SWAP_CANARY. */
export function runCanary(pipeline: string, steps: CanaryStep[], deadlineMs: number): Promise<number> {
  const data: CanaryData = { pipeline, steps, now: Date.now() };
  const worker = new Worker(CANARY_WORKER_URL, { workerData: data });
  const fail = (step: number, detail: string, cause?: string) =>
    new WgError('WG_ERR_SWAP_CANARY', { pipeline, step, plugin: steps.find((s) => s.index === step)?.plugin.name ?? '?', detail, ...(cause ? { cause } : {}) });
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => settle(() => reject(fail(steps[0]!.index, `did not finish within its ${deadlineMs} ms deadline`, 'WG_ERR_PLUGIN_TIMEOUT'))), deadlineMs);
    worker.once('message', (verdict: CanaryVerdict) => settle(() => (verdict.ok ? resolve(verdict.batches) : reject(fail(verdict.step, `${verdict.code}: ${verdict.message}`, verdict.code)))));
    worker.once('error', (err) => settle(() => reject(fail(steps[0]!.index, `the canary worker crashed: ${err.message}`, 'WG_ERR_WORKER_CRASHED'))));
    worker.once('exit', (code) => settle(() => reject(fail(steps[0]!.index, `the canary worker exited with code ${code}`, 'WG_ERR_WORKER_CRASHED'))));
  });
}
