/**
 * Worker fixture: writes `count` records of records.ts payloads to the ring, committing every `batch`
 * records and blocking (Atomics.wait) while the ring is full. Reports when all are committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RingWriter } from '../../../src/host/ring/writer.js';
import { fillPayload, payloadLength } from './records.js';

export interface ProducerData {
  buffer: SharedArrayBuffer;
  count: number;
  batch: number;
  maxExtra: number;
}

export interface ProducerResult {
  written: number;
  /** Times the producer found the ring full and slept. */
  waits: number;
}

const { buffer, count, batch, maxExtra } = workerData as ProducerData;
const writer = new RingWriter(buffer);
let waits = 0;
for (let seq = 0; seq < count; seq++) {
  const length = payloadLength(seq, maxExtra);
  let offset = writer.reserve(length);
  while (offset < 0) {
    waits++;
    writer.waitForSpaceSync(length);
    offset = writer.reserve(length);
  }
  fillPayload(writer.bytes, writer.view, offset, seq, length);
  if ((seq + 1) % batch === 0) writer.commit();
}
writer.commit();
parentPort?.postMessage({ written: count, waits } satisfies ProducerResult);
