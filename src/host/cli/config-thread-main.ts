/**
 * Entry of the configuration thread (config-thread.ts): loadAndConfigure on the file it is given,
 * one answer, then the thread ends. An unexpected failure (not a config problem: those are in the
 * result) is answered as its message, for the daemon to report.
 *
 * With `cache` (a daemon's start), the start cache (config-cache.ts) is asked first: when it holds,
 * its configuration is the answer and the config modules are never loaded. This runs here, not on
 * the daemon's main thread, because the main thread is busy loading the gateway's modules meanwhile
 * and this thread has the other core. On a miss, every file and environment variable the load looks
 * at is recorded (input-recorder.ts) and answered with the result, for the daemon to write the cache.
 * The modules are loaded before the recording starts: the code is keyed by its own identity.
 *
 * `marks`: when the thread booted, had asked the cache, had its modules, had loaded and checked the
 * files, and had configured the plugins, as wall-clock ms (performance.timeOrigin + now): the daemon
 * turns them into its own start marks (start-marks.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CacheLookup } from './config-cache.js';

const wall = (): number => performance.timeOrigin + performance.now();
const marks: Record<string, number> = { booted: wall() };
const { file, cache } = workerData as { file: string; cache?: boolean };
try {
  let lookup: CacheLookup | undefined;
  if (cache) {
    const { readConfigCache } = await import('./config-cache.js');
    // Whatever goes wrong with the cache, the start goes on the full path (and writes none).
    lookup = await readConfigCache(file).catch((err: unknown) => ({ used: false as const, reason: `the cache could not be checked: ${(err as Error).message}` }));
    marks.cached = wall();
  }
  if (lookup?.used) {
    parentPort!.postMessage({ result: lookup.result, marks, cache: { used: true, location: lookup.location } });
  } else {
    const { loadAndConfigure } = await import('./validate.js');
    const location = lookup?.location;
    const recorder = location ? (await import('../config/input-recorder.js')).recordInputs() : undefined;
    marks.imported = wall();
    const result = await loadAndConfigure(file, true, (phase) => (marks[phase] = wall()));
    let inputs: unknown;
    if (recorder) {
      const { firstChanged } = await import('../config/config-inputs.js');
      const recorded = recorder.inputs();
      const changed = firstChanged(recorded, recorder.rawEnv);
      // A file that changed while it was being read: this result may mix old and new, so it keys nothing.
      const taint = recorder.taint() ?? (changed ? `${changed.op} ${changed.target} changed during the load` : undefined);
      inputs = taint === undefined ? recorded : { taint };
    }
    parentPort!.postMessage({ result, marks, inputs, ...(lookup ? { cache: { used: false, reason: lookup.reason, ...(location ? { location } : {}) } } : {}) });
  }
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err), marks });
}
