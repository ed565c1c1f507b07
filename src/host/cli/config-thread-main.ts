/**
 * Entry of the configuration thread (config-thread.ts): loadAndConfigure on the file it is given,
 * one answer, then the thread ends. An unexpected failure (not a config problem: those are in the
 * result) is answered as its message, for the daemon to report.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAndConfigure } from './validate.js';

const { file } = workerData as { file: string };
try {
  parentPort!.postMessage({ result: await loadAndConfigure(file) });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
}
