/**
 * The worker a BACnet scan runs in (bacnet-scan-run.ts starts it): the scan codec is plugin code, and
 * plugin code runs where a deadline can stop it. It reports progress after each exchange, so the main
 * thread can tell a scan that waits on silent devices from one stuck in the codec.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CodedError } from '../../errors.js';
import { BacnetScan, type BacnetScanRequest } from './bacnet-scan.js';
import { BacnetScanCodec } from './bacnet-scan-codec.js';

export type ScanWorkerMessage =
  | { type: 'progress' }
  | { type: 'done'; result: import('./bacnet-scan.js').BacnetScanResult }
  | { type: 'failed'; code?: string; context?: Record<string, unknown>; message: string };

export interface ScanWorkerData {
  request: BacnetScanRequest;
  codecFile?: string;
}

const port = parentPort!;
const post = (m: ScanWorkerMessage): void => port.postMessage(m);
try {
  const { request, codecFile } = workerData as ScanWorkerData;
  const scan = new BacnetScan(request, BacnetScanCodec.load(codecFile), () => post({ type: 'progress' }));
  post({ type: 'done', result: await scan.run() });
} catch (err) {
  if (err instanceof CodedError) post({ type: 'failed', code: err.code, context: { ...err.context }, message: err.message });
  else post({ type: 'failed', message: (err as Error).message });
}
