/**
 * Entry of a pipeline worker thread: configure the chain, then move batches from the ingress ring
 * through it into the egress ring until told to stop. The commit protocol with the watchdog
 * (control.ts) makes a batch's output appear exactly once: the worker claims COMMITTING with a
 * compare-exchange, and if the watchdog claimed KILLED first, the worker writes nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isWgError } from '../errors.js';
import { RingReader } from '../ring/reader.js';
import { RingWriter } from '../ring/writer.js';
import { readMessages } from '../engine/message-batch.js';
import { StepChain } from './chain.js';
import { BATCHES_DONE, STARTED_AT, STATE, STEP, WorkerState, openControl } from './control.js';
import type { RunnerMessage, WorkerData, WorkerMessage } from './worker-protocol.js';

const data = workerData as WorkerData;
const port = parentPort!;
const { ints, floats } = openControl(data.control);
const ingress = new RingReader(data.ingress);
const egress = new RingWriter(data.egress);
let stopping = false;

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

const chain = new StepChain(
  data.steps.map((s) => ({ plugin: { name: s.name, file: s.file, module: s.module, facts: s.facts, size: s.size }, kind: s.kind, with: s.with })),
  data.context,
  {
    log: (level, message, context) => post({ type: 'log', level, message, context }),
    enterStep: (step) => { ints[STEP] = step; },
  },
);

/** Moves the state from `from` to `to`; false if the watchdog got there first. */
function claim(from: number, to: number): boolean {
  return Atomics.compareExchange(ints, STATE, from, to) === from;
}

function writeMessages(batch: Uint8Array): void {
  for (const message of readMessages(batch)) {
    let at = egress.reserve(4 + message.payload.byteLength);
    while (at < 0) {
      // The main thread drains the egress ring into the uplink; wait for it rather than drop.
      egress.waitForSpaceSync(4 + message.payload.byteLength, 100);
      at = egress.reserve(4 + message.payload.byteLength);
    }
    egress.view.setUint32(at, message.point ?? 0xffffffff, true);
    egress.bytes.set(message.payload, at + 4);
  }
}

/**
 * Runs `work` under the watchdog. If it hangs, the watchdog skips what the ingress reader has in
 * flight (the batch being processed, or nothing during a tick).
 */
function watched(work: () => Uint8Array[] | Uint8Array | null): boolean {
  floats[STARTED_AT] = Date.now();
  if (!claim(WorkerState.IDLE, WorkerState.PROCESSING)) return false;
  const out = work();
  if (!claim(WorkerState.PROCESSING, WorkerState.COMMITTING)) return false;
  for (const batch of Array.isArray(out) ? out : out ? [out] : []) writeMessages(batch);
  egress.commit();
  return true;
}

function finishCommit(): void {
  Atomics.add(ints, BATCHES_DONE, 1);
  Atomics.store(ints, STATE, WorkerState.IDLE);
}

function tick(now: number): boolean {
  const ok = watched(() => chain.tick(now));
  if (ok) Atomics.store(ints, STATE, WorkerState.IDLE);
  return ok;
}

async function run(): Promise<void> {
  let nextTick = Date.now() + data.tickMs;
  let sinceYield = 0;
  while (true) {
    const batch = ingress.acquire(data.maxBatchBytes, data.maxBatchRecords);
    if (batch) {
      const input = batch.spans.length === 1 ? batch.spans[0]! : concat(batch.spans, batch.bytes);
      if (!watched(() => chain.process(input, batch.records))) return;
      ingress.release(batch.end);
      finishCommit();
    } else if (stopping) {
      break;
    }
    const now = Date.now();
    if (now >= nextTick) {
      if (!tick(now)) return;
      chain.collectStats();
      post({ type: 'counters', steps: chain.counters, batchesDropped: chain.batchesDropped });
      nextTick = now + data.tickMs;
    }
    if (!batch) {
      await ingress.waitForDataAsync(Math.max(1, Math.min(nextTick - Date.now(), 100)));
      sinceYield = 0;
    } else if (++sinceYield >= 64) {
      // Under sustained load, let control messages (stop) in now and then.
      await new Promise((resolve) => setImmediate(resolve));
      sinceYield = 0;
    }
  }
  // Shutdown: flush what time-driven steps hold (a partial bucket), then report and leave.
  if (!tick(Infinity)) return;
  chain.collectStats();
  post({ type: 'counters', steps: chain.counters, batchesDropped: chain.batchesDropped });
  post({ type: 'stopped' });
}

function concat(spans: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const span of spans) {
    out.set(span, at);
    at += span.byteLength;
  }
  return out;
}

port.on('message', (message: RunnerMessage) => {
  if (message.type === 'stop') stopping = true;
});

floats[STARTED_AT] = Date.now();
Atomics.store(ints, STATE, WorkerState.CONFIGURING);
try {
  chain.configure();
} catch (err) {
  if (!isWgError(err)) throw err;
  post({ type: 'configure-failed', code: err.code, message: err.message, context: err.context });
  process.exit(1);
}
if (claim(WorkerState.CONFIGURING, WorkerState.IDLE)) {
  post({ type: 'ready' });
  await run();
}
