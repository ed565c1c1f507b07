/**
 * Runs a BACnet scan (bacnet-scan.ts) in a worker of its own and waits for its result. The scan
 * reports after every exchange; when nothing comes for longer than one request may take (the APDU
 * timeout times its attempts, plus the worker's start), the worker is terminated and the scan fails
 * with WG_ERR_PLUGIN_TIMEOUT: the scan codec is plugin code, held to a deadline as any plugin is.
 */
import { Worker } from 'node:worker_threads';
import { WgError, type ErrorCode, type ErrorContext } from '../errors.js';
import type { BacnetScanRequest, BacnetScanResult } from './bacnet-scan.js';
import type { ScanWorkerData, ScanWorkerMessage } from './bacnet-scan-worker.js';

const WORKER_URL = new URL('./bacnet-scan-worker.js', import.meta.url);
/** The worker's start and the codec's compile, on top of the longest exchange. */
const START_MARGIN_MS = 10_000;

export interface ScanWorkerOptions {
  /** The scan codec module (default: the built plugins/bacnet/build/scan.wasm). */
  codecFile?: string;
  /** Allowance for the worker's start on top of one exchange, ms. */
  startMarginMs?: number;
}

export function scanInWorker(request: BacnetScanRequest, options: ScanWorkerOptions = {}): Promise<BacnetScanResult> {
  const stallMs = request.timeoutMs * (request.retries + 1) + (options.startMarginMs ?? START_MARGIN_MS);
  const data: ScanWorkerData = { request, ...(options.codecFile ? { codecFile: options.codecFile } : {}) };
  const worker = new Worker(WORKER_URL, { workerData: data });
  return new Promise<BacnetScanResult>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout;
    const settle = (outcome: { result: BacnetScanResult } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => settle({ error: new WgError('WG_ERR_PLUGIN_TIMEOUT', { plugin: 'bacnet scan codec', detail: `no progress for ${stallMs} ms; the scan was stopped` }) }), stallMs);
    };
    arm();
    worker.on('message', (m: ScanWorkerMessage) => {
      if (m.type === 'progress') arm();
      else if (m.type === 'done') settle({ result: m.result });
      else settle({ error: m.code ? new WgError(m.code as ErrorCode, (m.context ?? {}) as ErrorContext) : new Error(m.message) });
    });
    worker.on('error', (err) => settle({ error: err }));
    worker.on('exit', (code) => settle({ error: new Error(`the scan's worker exited with code ${code} before its result`) }));
  });
}
