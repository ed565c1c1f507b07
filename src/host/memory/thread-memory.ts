/**
 * What one thread's V8 isolate holds, measured from inside it (a worker's heap cannot be read from
 * another thread on Node 20: `worker.getHeapStatistics()` came later, and a heap snapshot costs more
 * than what it measures). The pipeline worker sends this with its counters; the main thread adds its
 * own in the process figures (process-memory.ts). Status and the gateway benchmark print them, so a
 * decision about heap flags, rings or threads is taken on measured bytes.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

export interface IsolateMemory {
  /** Bytes the isolate's heap has committed (every space), what counts in RSS once touched. */
  heapCommitted: number;
  /** Bytes of live and not yet collected objects in it. */
  heapUsed: number;
  /** Committed bytes of the young generation (new space): what --max-semi-space-size bounds. */
  youngCommitted: number;
  /** Bytes outside the heap that objects of this isolate hold (Buffers, ArrayBuffers), shared ones included. */
  external: number;
}

export function isolateMemory(): IsolateMemory {
  const heap = getHeapStatistics();
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    heapCommitted: heap.total_heap_size,
    heapUsed: heap.used_heap_size,
    youngCommitted: young?.space_size ?? 0,
    external: heap.external_memory,
  };
}

/** A pipeline worker's memory: its isolate and the linear memory of each plugin instance it runs. */
export interface WorkerMemory extends IsolateMemory {
  /** Linear memory of each step's instance, bytes, in chain order. */
  wasmSteps: number[];
  /** Linear memory of the decoder's polling instance, bytes (0 when the source does not poll). */
  wasmPolling: number;
}
