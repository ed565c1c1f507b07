/**
 * Pipeline workers started before their pipelines are: each boots and loads worker-main.js's modules
 * (about 80-100 ms of a start, on the core the main thread is not using), then waits for its
 * pipeline's data (a `boot` message, worker-main.ts). `run` starts one per pipeline as soon as it has
 * the configuration (cli/start-overlap.ts), while the main thread is still loading the gateway's own
 * modules and opening the uplinks and the outbox; the pipeline runner takes one instead of starting a
 * worker then (pipeline-runner.ts). One that failed to boot is never handed out: the runner starts its
 * own, as without spares. Those left once the gateway runs are ended (`dispose`).
 */
import { Worker } from 'node:worker_threads';

/** pipeline-runner.ts's WORKER_URL, named here so that starting spares does not wait for the runner's modules. */
const WORKER_ENTRY = new URL('./worker-main.js', import.meta.url);

export class SpareWorkers {
  readonly #idle = new Set<Worker>();

  constructor(count: number, url: URL = WORKER_ENTRY) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url);
      // A spare holds no pipeline: it must not keep a daemon that is exiting alive.
      worker.unref();
      const gone = (): void => void this.#idle.delete(worker);
      worker.once('exit', gone);
      worker.once('error', gone);
      this.#idle.add(worker);
    }
  }

  /** A booting or booted spare, now the caller's (it must post the `boot` message at once), or undefined. */
  take(): Worker | undefined {
    const [worker] = this.#idle;
    if (worker === undefined) return undefined;
    this.#idle.delete(worker);
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    worker.ref();
    return worker;
  }

  /** How many are left. */
  get size(): number {
    return this.#idle.size;
  }

  /** Ends those nobody took. */
  async dispose(): Promise<void> {
    const left = [...this.#idle];
    this.#idle.clear();
    await Promise.all(left.map((w) => w.terminate()));
  }
}
