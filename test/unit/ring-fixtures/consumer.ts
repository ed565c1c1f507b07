/**
 * Worker fixture: reads `count` records in batches of at most `maxBytes`, checks each with
 * records.ts's StreamCheck, blocking (Atomics.wait) while the ring is empty. Reports what it saw.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RingReader } from '../../../src/host/ring/reader.js';
import { StreamCheck } from './records.js';

export interface ConsumerData {
  buffer: SharedArrayBuffer;
  count: number;
  maxExtra: number;
  maxBytes: number;
}

export interface ConsumerResult {
  records: number;
  /** Times the consumer found the ring empty and slept. */
  waits: number;
  error: string | undefined;
}

const { buffer, count, maxExtra, maxBytes } = workerData as ConsumerData;
const reader = new RingReader(buffer);
const check = new StreamCheck(maxExtra);
let records = 0;
let waits = 0;
while (records < count && check.error === undefined) {
  const batch = reader.acquire(maxBytes);
  if (batch === null) {
    waits++;
    reader.waitForData();
    continue;
  }
  for (const span of batch.spans) check.span(span);
  records += batch.records;
  reader.release(batch.end);
}
parentPort?.postMessage({ records, waits, error: check.error } satisfies ConsumerResult);
