/**
 * Entry of the configuration thread (config-thread.ts): loadAndConfigure on the file it is given,
 * one answer, then the thread ends. An unexpected failure (not a config problem: those are in the
 * result) is answered as its message, for the daemon to report.
 *
 * With `record`, every file and environment variable the load looks at is recorded (input-recorder.ts)
 * and answered with the result, for the start cache (config-cache.ts). The modules are loaded before
 * the recording starts: the code is keyed by its own identity, not read by read.
 *
 * `marks`: when the thread booted, had its modules, had loaded and checked the files, and had
 * configured the plugins, as wall-clock ms (performance.timeOrigin + now): the daemon turns them into
 * its own start marks (start-marks.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';

const wall = (): number => performance.timeOrigin + performance.now();
const marks: Record<string, number> = { booted: wall() };
const { file, record } = workerData as { file: string; record?: boolean };
try {
  const { loadAndConfigure } = await import('./validate.js');
  const recorder = record ? (await import('../config/input-recorder.js')).recordInputs() : undefined;
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
  parentPort!.postMessage({ result, marks, inputs });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err), marks });
}
