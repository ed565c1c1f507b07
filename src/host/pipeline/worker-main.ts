/**
 * Entry of a pipeline worker thread: configure the chain (and the decoder's polling instance), then
 * move batches from the ingress ring through it into the egress ring, and answer the pollers' calls
 * into the polling group, until told to stop. Every call into plugin code is watched: the worker marks
 * what it is in (control.ts) and the watchdog on the main thread terminates it past the deadline.
 *
 * The commit protocol with the watchdog makes a batch's output appear exactly once: the worker claims
 * COMMITTING with a compare-exchange, and if the watchdog claimed KILLED first, the worker writes
 * nothing.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { WgError, isWgError } from '../errors.js';
import type { CompiledPlugin } from '../engine/engine.js';
import { RingReader } from '../ring/reader.js';
import { RingWriter } from '../ring/writer.js';
import { readMessages } from '../engine/message-batch.js';
import { frameRecordPayloadLength } from '../engine/frame-record.js';
import { maxPayloadBytes } from '../ring/ring.js';
import { StepChain } from './chain.js';
import { BATCHES_DONE, CALL, STARTED_AT, STATE, STEP, WatchedCall, WorkerState, monotonicMs, openControl } from './control.js';
import type { PlannedFraming, PollCall } from './poll-protocol.js';
import { PollService } from './poll-service.js';
import { RepeatLog } from './repeat-log.js';
import type { RunnerMessage, WorkerData, WorkerMessage } from './worker-protocol.js';
import type { LevelLog } from '../log-events.js';
import type { ControlEvent, ControlReply, ControlRequest } from './swap-protocol.js';
import { isolateMemory } from '../memory/thread-memory.js';
import { WorkerRules } from '../rules/worker-rules.js';
import { anchorTimeline, processClock } from '../rules/rule-timeline.js';
import { WorkerStageClock } from './pipeline-stages.js';

// A spare worker (spare-workers.ts) is started without data and handed its pipeline's in a `boot`
// message: its modules are loaded by then, which is what starting it early was for.
const data = (workerData ?? (await bootData())) as WorkerData;
const port = parentPort!;
const { ints, floats } = openControl(data.control);
const ingress = new RingReader(data.ingress);
const egress = new RingWriter(data.egress);
let stopping = false;
/** Set once the watchdog claimed this worker: nothing more may be written or answered. */
let killed = false;

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

const log: LevelLog = (level, message, context) => post({ type: 'log', level, message, context });
const repeats = new RepeatLog(log);

/** Steps whose traps are reported on the control channel (the runner's crash-loop watch after a swap). */
let trapWatch = new Set<number>();
/** The pipeline's rules: they see what the encoder gets, on every batch and tick (created at configure). */
let rules: WorkerRules | undefined;

const chain = new StepChain(
  data.steps,
  data.context,
  {
    log, repeats, enterStep: (step) => { ints[STEP] = step; },
    trapped: (step) => { if (trapWatch.has(step)) data.controlPort?.postMessage({ event: 'trap', step } satisfies ControlEvent); },
    toEncoder: (samples) => rules?.samples(samples),
  },
  // writeMessages puts a point id before each payload.
  egress.maxPayload - 4,
);
let polling: PollService | undefined;
const stages = new WorkerStageClock();

/** Moves the state from `from` to `to`; false if the watchdog got there first. */
function claim(from: number, to: number): boolean {
  return Atomics.compareExchange(ints, STATE, from, to) === from;
}

/**
 * Runs one plugin call under the watchdog and leaves the worker COMMITTING (the caller writes and then
 * finishes) or, with `commit` false, IDLE again. Returns false when the watchdog killed the worker.
 */
function watched(call: number, work: () => void, commit = false): boolean {
  ints[CALL] = call;
  floats[STARTED_AT] = monotonicMs();
  if (!claim(WorkerState.IDLE, WorkerState.PROCESSING)) return !(killed = true);
  work();
  if (!claim(WorkerState.PROCESSING, commit ? WorkerState.COMMITTING : WorkerState.IDLE)) return !(killed = true);
  return true;
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

function commitOutput(out: Uint8Array[]): void {
  for (const batch of out) writeMessages(batch);
  egress.commit();
  // After the commit claim: what the rules made goes out exactly when the batch's output does.
  const events = rules?.take();
  if (events && events.length > 0) post({ type: 'rules', events });
  if (rulesState) post({ type: 'rules-state', state: rulesState });
  rulesState = undefined;
}

/** How often the rules' state is saved when nothing fired or cleared, ms (monotonic). */
const RULES_SAVE_MS = 10_000;
let rulesSavedAt = monotonicMs();
/** The rules' state taken in the watched call, posted with the commit. */
let rulesState: Uint8Array | undefined;

/** Inside a watched call: the rules' state to save after events, every RULES_SAVE_MS, and with `now` at the end. */
function takeRulesState(now: boolean): void {
  if (!rules) return;
  const state = rules.stateToSave(now || monotonicMs() - rulesSavedAt >= RULES_SAVE_MS);
  if (!state) return;
  rulesSavedAt = monotonicMs();
  rulesState = state;
}

function processBatch(input: Uint8Array, records: number): boolean {
  let out: Uint8Array | null = null;
  const started = monotonicMs();
  if (!watched(WatchedCall.BATCH, () => { out = chain.process(input, records); takeRulesState(false); }, true)) return false;
  stages.chain.observe(monotonicMs() - started);
  commitOutput(out ? [out] : []);
  return true;
}

function tick(now: number): boolean {
  let out: Uint8Array[] = [];
  if (!watched(WatchedCall.TICK, () => { out = chain.tick(now); rules?.tick(now); takeRulesState(now === Infinity); }, true)) return false;
  commitOutput(out);
  Atomics.store(ints, STATE, WorkerState.IDLE);
  return true;
}

function reportCounters(): boolean {
  if (!watched(WatchedCall.STATS, () => chain.collectStats())) return false;
  repeats.flush();
  const memory = { ...isolateMemory(), wasmSteps: chain.memoryBytes, wasmPolling: polling?.memoryBytes ?? 0 };
  post({ type: 'counters', steps: chain.counters, batchesDropped: chain.batchesDropped, ...(polling ? { polling: polling.counters } : {}), ...(rules ? { rulesEvalErrors: rules.traps } : {}), memory, stages: stages.snapshot() });
  return true;
}

/** Answers one poller call; the reply's bytes are transferred, not copied. */
function servePoll(call: PollCall): void {
  if (killed || !polling) return;
  const service = polling;
  let reply: ReturnType<PollService['serve']> | undefined;
  ints[STEP] = 0;
  if (!watched(WatchedCall.POLL, () => { reply = service.serve(call); })) return;
  const value = reply!.ok ? reply!.value : undefined;
  data.pollPort.postMessage(reply, value instanceof Uint8Array ? [value.buffer as ArrayBuffer] : []);
}

/** Answers every poller call that is waiting; run between batches so a busy pipeline still frames. */
function servePending(): boolean {
  for (let m = receiveMessageOnPort(data.pollPort); m && !killed; m = receiveMessageOnPort(data.pollPort)) servePoll(m.message as PollCall);
  return !killed;
}

/** Acts on every control request that is waiting (swap-protocol.ts): between two batches, never inside one. */
function serveControl(): boolean {
  const port = data.controlPort;
  if (!port) return true;
  for (let m = receiveMessageOnPort(port); m && !killed; m = receiveMessageOnPort(port)) {
    const request = m.message as ControlRequest;
    const reply = answerControl(request);
    if (reply) port.postMessage(reply);
  }
  return !killed;
}

function answerControl(request: ControlRequest): ControlReply | undefined {
  const { id } = request;
  switch (request.op) {
    case 'recent':
      return { id, ok: true, recent: request.steps.map((index) => ({ index, inputs: chain.recent.of(index), doc: chain.settingsOf(index) })) };
    case 'watch':
      trapWatch = new Set(request.steps);
      return { id, ok: true };
    case 'status':
      return { id, ok: true, plugins: chain.steps.map((s) => s.plugin.name), batchesDone: Atomics.load(ints, BATCHES_DONE), counters: chain.counters };
    case 'drain': {
      let out: Uint8Array[] = [];
      if (!watched(WatchedCall.DRAIN, () => { out = chain.drain(); }, true)) return undefined;
      commitOutput(out);
      Atomics.store(ints, STATE, WorkerState.IDLE);
      return { id, ok: true };
    }
    case 'swap':
      return swapSteps(request);
  }
}

/**
 * Puts new versions of steps live, all or none: each is instantiated and configured (and a decoder's
 * polling instance checked against the running plan) before any goes live. Under the watchdog with the
 * configure deadline: a new version that hangs gets this worker terminated, and the runner starts a
 * fresh one with the old versions.
 */
function swapSteps(request: Extract<ControlRequest, { op: 'swap' }>): ControlReply | undefined {
  const { id } = request;
  let reply: ControlReply = { id, ok: true };
  const flushed: Uint8Array[] = [];
  const started = monotonicMs();
  const work = () => {
    try {
      const prepared = request.steps.map((s) => chain.prepare(s.index, s.step));
      const decoder = prepared.find((p) => p.index === 0);
      let nextPolling: PollService | undefined;
      if (decoder && polling) {
        nextPolling = pollService(decoder.step.plugin, decoder.doc);
        const difference = polling.differenceTo(nextPolling);
        if (difference !== null) {
          throw new WgError('WG_ERR_SWAP_INCOMPATIBLE', { pipeline: data.context.pipeline, step: 0, plugin: decoder.step.plugin.name, detail: `the new decoder would not decode the frames the old one requested: ${difference}` });
        }
      }
      const handoffs = prepared.map((p) => ({ index: p.index, handoff: chain.commit(p, flushed) }));
      if (nextPolling) polling = nextPolling;
      reply = { id, ok: true, handoffs };
    } catch (err) {
      if (!isWgError(err)) throw err;
      reply = { id, ok: false, code: err.code, message: err.message, context: { ...err.context } };
    }
  };
  if (!watched(WatchedCall.SWAP, work, true)) return undefined;
  commitOutput(flushed);
  Atomics.store(ints, STATE, WorkerState.IDLE);
  // How long the batches waited: the swap's pause, as the worker saw it.
  return reply.ok ? { ...reply, pauseMs: monotonicMs() - started } : reply;
}

async function run(): Promise<void> {
  let nextTick = monotonicMs() + data.tickMs;
  let sinceYield = 0;
  while (true) {
    if (!servePending() || !serveControl()) return;
    const batch = ingress.acquire(data.maxBatchBytes, data.maxBatchRecords);
    if (batch) {
      stages.ingressWait.observe(ingress.waitedMs());
      const input = batch.spans.length === 1 ? batch.spans[0]! : concat(batch.spans, batch.bytes);
      if (!processBatch(input, batch.records)) return;
      ingress.release(batch.end);
      Atomics.add(ints, BATCHES_DONE, 1);
      Atomics.store(ints, STATE, WorkerState.IDLE);
    } else if (stopping) {
      break;
    }
    if (monotonicMs() >= nextTick) {
      // Plugins see wall time (they stamp and bucket samples with it); the schedule is monotonic.
      if (!tick(Date.now()) || !reportCounters()) return;
      nextTick = monotonicMs() + data.tickMs;
    }
    if (!batch) {
      await ingress.waitForDataAsync(Math.max(1, Math.min(nextTick - monotonicMs(), 100)));
      sinceYield = 0;
    } else if (++sinceYield >= 64) {
      // Under sustained load, let control messages (stop) in now and then.
      await new Promise((resolve) => setImmediate(resolve));
      sinceYield = 0;
    }
  }
  // Shutdown: flush what time-driven steps hold (a partial bucket), then report and leave.
  if (!tick(Infinity) || !reportCounters()) return;
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

function pollService(decoder: CompiledPlugin, settings: unknown): PollService {
  return new PollService(
    decoder, settings, data.context.pipeline,
    (line) => log(line.level, line.message, { event: 'plugin.log', step: 0, plugin: decoder.name }),
    repeats,
    // The poller records every request it sends in the ingress ring: one that cannot be recorded is not sent.
    maxPayloadBytes(ingress.capacity) - frameRecordPayloadLength(0, 0),
  );
}

/** Configures every step and the polling instance; false (after reporting why) when that failed. */
function configure(): { plan: Uint32Array; framing: PlannedFraming | null } | null | false {
  floats[STARTED_AT] = monotonicMs();
  ints[CALL] = WatchedCall.CONFIGURE;
  Atomics.store(ints, STATE, WorkerState.CONFIGURING);
  try {
    chain.configure();
    if (data.rules) {
      rules = new WorkerRules(data.rules, data.context.pipeline, repeats, { anchor: data.rulesTimeline ?? anchorTimeline(processClock), clock: processClock });
      if (data.rulesState) post({ type: 'rules-state', restored: rules.restore(data.rulesState) });
      else if (data.rulesPatches) post({ type: 'rules-state', restored: rules.restorePatches(data.rulesPatches) });
    }
    const decoder = data.steps[0]!.plugin;
    if (!decoder.facts.polling) return null;
    ints[STEP] = 0;
    polling = pollService(decoder, chain.settingsOf(0));
    const plan = polling.requests();
    return { plan, framing: polling.framing(plan) };
  } catch (err) {
    if (!isWgError(err)) throw err;
    post({ type: 'configure-failed', code: err.code, message: err.message, context: err.context });
    return false;
  }
}

port.on('message', (message: RunnerMessage) => {
  if (message.type === 'stop') stopping = true;
});
data.pollPort.on('message', (call: PollCall) => servePoll(call));
// An idle worker waits for data up to 100 ms: a control request wakes it instead. Handled only at an
// await of run(), which is always between two batches.
data.controlPort?.on('message', (request: ControlRequest) => {
  if (killed) return;
  const reply = answerControl(request);
  if (reply) data.controlPort!.postMessage(reply);
});

const polled = configure();
const ready: WorkerMessage = { type: 'ready', ...(polled ? { plan: polled.plan, ...(polled.framing ? { framing: polled.framing } : {}) } : {}) };
if (polled === false) {
  process.exit(1);
} else if (data.dryRun) {
  post(ready);
  process.exit(0);
} else if (claim(WorkerState.CONFIGURING, WorkerState.IDLE)) {
  post(ready);
  await run();
  data.pollPort.close();
  data.controlPort?.close();
}

function bootData(): Promise<WorkerData> {
  return new Promise((resolve) => {
    parentPort!.once('message', (m: { type: 'boot'; data: WorkerData }) => resolve(m.data));
  });
}
