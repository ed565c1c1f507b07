/**
 * Entry of a canary worker: a throwaway thread that instantiates the new version of each swapped step
 * with the pipeline's settings document and runs it on copies of that step's recent real inputs (and
 * one tick). Any trap, error status or refusal fails the canary; a hang is ended by the runner's
 * deadline (canary.ts), in this thread, so the live pipeline never waits on it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isWgError } from '../errors.js';
import { PluginInstance } from '../engine/plugin-instance.js';
import type { CanaryData, CanaryVerdict } from './canary.js';

const data = workerData as CanaryData;

function run(): CanaryVerdict {
  for (const step of data.steps) {
    try {
      const instance = new PluginInstance(step.plugin, { context: { pipeline: data.pipeline, step: step.index } });
      instance.configure(step.doc);
      for (const input of step.inputs) instance.process(input);
      instance.tick(data.now);
    } catch (err) {
      if (!isWgError(err)) throw err;
      return { ok: false, step: step.index, code: err.code, message: err.message };
    }
  }
  return { ok: true, batches: data.steps.reduce((n, s) => n + s.inputs.length, 0) };
}

parentPort!.postMessage(run());
