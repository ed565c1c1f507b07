/**
 * The main-thread side of one pipeline: owns its rings, its worker and the worker's watchdog, and
 * drains the egress ring into the uplink. The poller writes frames into `ingress`.
 *
 * Failure handling (docs/delivery.md): a batch that runs past its deadline gets the worker terminated,
 * that batch skipped and counted, and a fresh worker started on the rest of the ring. A worker that
 * cannot be brought up (a plugin that hangs or fails while configuring) is retried with back-off and
 * the pipeline's state says why.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { SpareWorkers } from './spare-workers.js';
import { WgError } from '../errors.js';
import { RingReader } from '../ring/reader.js';
import { RingWriter } from '../ring/writer.js';
import { createRing } from '../ring/ring.js';
import type { ChainContext, ChainStep, StepCounters } from './chain.js';
import { BATCHES_DONE, CALL, STARTED_AT, STATE, STEP, WATCHED_CALL_NAMES, WatchedCall, WorkerState, createControl, monotonicMs, openControl } from './control.js';
import { PollChannel, type DeviceProtocol } from './poll-channel.js';
import type { PlannedFraming, PollingCounters } from './poll-protocol.js';
import type { WorkerData, WorkerMessage } from './worker-protocol.js';
import type { LevelLog } from '../log-events.js';
import type { ControlEvent, ControlReply, ControlRequest } from './swap-protocol.js';
import type { Handoff } from './chain.js';
import { runCanary } from './canary.js';
import { CrashLoopWatch, DEFAULT_CRASH_LOOP, type CrashLoopSettings } from './crash-loop.js';

/** Distributes Omit over a union, so each request keeps its own fields without its id. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
import type { WorkerMemory } from '../memory/thread-memory.js';
import type { CompiledPlugin } from '../engine/engine.js';
import type { RuleEvent } from '../rules/rule-set.js';
import type { TimelineAnchor } from '../rules/rule-timeline.js';
import type { StatePatch } from '../rules/rule-state-map.js';
import { noWorkerStages, type PipelineStages, type WorkerStages } from './pipeline-stages.js';
import { LatencyHistogram, STAGE_BOUNDS_MS } from '../metrics/latency-histogram.js';

export interface PipelineLogger {
  log: LevelLog;
}

export interface PipelineOptions {
  /** Workers started early (spare-workers.ts): the first start takes one when there is one. */
  spares?: SpareWorkers;
  name: string;
  steps: ChainStep[];
  context: ChainContext;
  ingressBytes: number;
  egressBytes: number;
  maxBatchRecords: number;
  /** Watchdog deadline for one batch, ms. */
  batchDeadlineMs: number;
  /** Watchdog deadline for instantiating and configuring every step, ms. */
  configureDeadlineMs?: number;
  tickMs?: number;
  /** Receives every message the encoder produced, in order. The payload is a copy the callee owns. */
  onMessage(point: number | undefined, payload: Uint8Array): void;
  /**
   * The uplink's back-pressure. While its backlog is at `limit` or more, messages stay in the egress
   * ring; the worker then waits for room, the ingress ring fills, and the poller delays its polls:
   * a slow or unreachable uplink holds readings back at the source instead of growing memory.
   */
  flow?: { limit: number; backlog(): number; whenBacklogBelow(limit: number): Promise<void> };
  logger: PipelineLogger;
  /** A swap's canary run deadline, ms (the pipeline's `swap.canary_deadline`). */
  canaryDeadlineMs?: number;
  /** When a swapped step is rolled back (the pipeline's `swap.rollback_traps`, `swap.rollback_window`). */
  crashLoop?: CrashLoopSettings;
  /** Told after a crash loop rolled step `index` back to `step`, the version that ran before. */
  onRollback?(index: number, step: ChainStep, reason: string): void;
  /** The pipeline's compiled rules, run in the worker on what the encoder gets (src/host/rules). */
  rules?: CompiledPlugin;
  /** Receives what the rules made, in order, once the batch's output is committed. */
  onRuleEvents?(events: RuleEvent[]): void;
  /** The rules' state to go on from (saved by a run before); each worker starts from the latest. */
  rulesState?: Uint8Array;
  /** What the saved state of an earlier run has of these rules, for the first worker (rule-state-map.ts). */
  rulesPatches?: StatePatch[];
  /** Where the rules' timeline starts (rule-timeline.ts); without it, each worker anchors its own at its start. */
  rulesTimeline?: TimelineAnchor;
  /** Receives the rules' state to save; and at each worker's start whether it took the one it was given. */
  onRuleState?(state: Uint8Array | undefined, restored?: boolean): void;
}

/** One swap or rollback of a step, as status shows it. */
export interface SwapRecord {
  /** Wall time, ISO 8601. */
  at: string;
  step: number;
  plugin: string;
  version?: string;
  outcome: 'live' | 'refused' | 'rolled-back';
  code?: string;
  reason?: string;
  handoff?: Handoff;
}

export interface SwapStatus {
  swaps: number;
  refused: number;
  rollbacks: number;
  /** Steps under the crash-loop watch (swapped, with the previous version kept for a rollback). */
  watching: number[];
  /** The latest records, newest last. */
  history: SwapRecord[];
}

/** A step's counters under a version it no longer runs (kept, so counters per version only grow). */
export interface RetiredStepCounters extends StepCounters {
  step: number;
  version?: string;
}

/** Swap records kept for status. */
const SWAP_HISTORY = 8;
/** A swap's canary run deadline unless told otherwise, ms. */
export const DEFAULT_CANARY_DEADLINE_MS = 1000;

export type PipelineState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface PipelineStatus {
  name: string;
  state: PipelineState;
  /** Why the pipeline is restarting or failed. */
  reason?: string;
  workerRestarts: number;
  watchdogKills: number;
  batchesDropped: number;
  batchesDone: number;
  /** Batches or ticks on which the compiled rules trapped (their events lost, the rules started afresh). */
  rulesEvalErrors: number;
  steps: StepCounters[];
  /** The decoder's polling instance (in the worker), when the source polls. */
  polling?: PollingCounters;
  ingress: ReturnType<RingWriter['stats']>;
  egress: ReturnType<RingWriter['stats']>;
  swaps: SwapStatus;
  /** Counters of versions swapped out (or rolled back). */
  retiredSteps: RetiredStepCounters[];
  /** The worker's heap and its plugins' linear memory, as it last reported them (every tick). */
  memory?: WorkerMemory;
  /** Time inside the gateway per stage (pipeline-stages.ts); the worker's two since it last started. */
  stages: PipelineStages;
}

export const WORKER_URL = new URL('./worker-main.js', import.meta.url);
/** How long instantiating and configuring every step of a pipeline may take, unless told otherwise. */
export const DEFAULT_CONFIGURE_DEADLINE_MS = 5000;
const MAX_RESTART_DELAY_MS = 30_000;

export class PipelineRunner {
  readonly name: string;
  /** The poller's end of the ingress ring. */
  readonly ingress: RingWriter;
  #options: PipelineOptions;
  #ingressBuffer: SharedArrayBuffer;
  #egressBuffer: SharedArrayBuffer;
  #egress: RingReader;
  #control = createControl();
  #views = openControl(this.#control);
  #worker?: Worker;
  #state: PipelineState = 'starting';
  #reason?: string;
  #watchdog?: NodeJS.Timeout;
  #draining = false;
  #restartDelay = 100;
  #restartTimer?: NodeJS.Timeout;
  /**
   * Every worker not yet seen to exit, the killed ones included: stop() ends them all, so that no
   * thread outlives its pipeline whatever order kills, restarts and the stop came in.
   */
  #live = new Set<Worker>();
  #counters: StepCounters[] = [];
  #memory?: WorkerMemory;
  #workerStages: WorkerStages = noWorkerStages();
  readonly #egressWait = new LatencyHistogram(STAGE_BOUNDS_MS);
  #polling?: PollingCounters;
  #pollingBefore: PollingCounters = { calls: 0, traps: 0, errors: 0, reinstantiations: 0 };
  #poll: PollChannel;
  #plan?: Uint32Array;
  #framing?: PlannedFraming;
  #workerDropped = 0;
  #droppedBefore = 0;
  /** Rule evaluation traps: this worker's, and those of the workers before it. */
  #workerRuleErrors = 0;
  #ruleErrorsBefore = 0;
  #restarts = 0;
  #kills = 0;
  #skipped = 0;
  #stopped?: () => void;
  #controlPort?: MessagePort;
  #nextRequest = 1;
  #pending = new Map<number, { resolve(reply: ControlReply): void; reject(err: Error): void }>();
  /** The version each swapped step ran before, for a rollback. */
  #previous = new Map<number, ChainStep>();
  #crashLoop: CrashLoopWatch;
  #swapping = false;
  #swapStatus: SwapStatus = { swaps: 0, refused: 0, rollbacks: 0, watching: [], history: [] };
  #retired: RetiredStepCounters[] = [];
  /** How long the last swap held the worker's batches, ms (measured in the worker). */
  lastSwapPauseMs?: number;
  /** How long the last swap's canary run took, ms, its worker's start included (bench/swap.bench.ts). */
  lastCanaryMs?: number;

  constructor(options: PipelineOptions) {
    this.name = options.name;
    this.#options = options;
    this.#ingressBuffer = createRing(options.ingressBytes);
    this.#egressBuffer = createRing(options.egressBytes);
    this.ingress = new RingWriter(this.#ingressBuffer);
    this.#egress = new RingReader(this.#egressBuffer);
    this.#poll = new PollChannel(options.name);
    this.#crashLoop = new CrashLoopWatch(options.crashLoop ?? DEFAULT_CRASH_LOOP);
  }

  /** The steps as they run now (after swaps and rollbacks). */
  get steps(): readonly ChainStep[] {
    return this.#options.steps;
  }

  /** The decoder's polling group, called in the worker under the watchdog. */
  get protocol(): DeviceProtocol {
    return this.#poll;
  }

  /** The decoder's write group (ABI 1.2 writeFrame, checkWrite), called in the worker under the watchdog. */
  get writes(): Pick<PollChannel, 'writeFrame' | 'checkWrite'> {
    return this.#poll;
  }

  /** The decoder's subscription group and wg_reply (ABI 1.6), called in the worker under the watchdog. */
  get subscriptions(): Pick<PollChannel, 'subscriptions' | 'subscribeFrame' | 'checkSubscribe' | 'reply'> {
    return this.#poll;
  }

  /** The decoder's framing rule and request frames (ABI 1.1), when it declared one that holds. */
  get framing(): PlannedFraming | undefined {
    return this.#framing;
  }

  /** The decoder's request plan (one device index per request), known once start() resolved. */
  get plan(): Uint32Array | undefined {
    return this.#plan;
  }

  /** Starts the worker; resolves once every step is configured, rejects with the configure error. */
  async start(): Promise<void> {
    this.#draining = true;
    void this.#drain();
    this.#watchdog = setInterval(() => this.#watch(), Math.max(5, Math.min(50, this.#options.batchDeadlineMs / 4)));
    await this.#spawn();
  }

  /** Stops after the worker has processed everything already in the ingress ring. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (worker) {
      const done = new Promise<void>((resolve) => { this.#stopped = resolve; });
      worker.postMessage({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      // The worker finishes what is in the ring; a worker that never says so is not waited for forever.
      await Promise.race([done, new Promise((r) => { timer = setTimeout(r, this.#options.batchDeadlineMs * 4 + 1000); })]);
      clearTimeout(timer);
    }
    clearInterval(this.#watchdog);
    await Promise.all([...this.#live].map((w) => w.terminate()));
    this.#abandonRequests('the pipeline stopped');
    this.#controlPort?.close();
    this.#poll.close(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.name, detail: 'the pipeline stopped' }));
    this.#draining = false;
    this.#drainNow();
    this.#state = 'stopped';
  }

  /** Fails every poll call in flight and every later one: the pollers are stopping. */
  abandonPolls(): void {
    this.#poll.close(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.name, detail: 'the pipeline is stopping' }));
  }

  status(): PipelineStatus {
    return {
      name: this.name,
      state: this.#state,
      ...(this.#reason ? { reason: this.#reason } : {}),
      workerRestarts: this.#restarts,
      watchdogKills: this.#kills,
      batchesDropped: this.#droppedBefore + this.#workerDropped + this.#skipped,
      batchesDone: Atomics.load(this.#views.ints, BATCHES_DONE),
      rulesEvalErrors: this.#ruleErrorsBefore + this.#workerRuleErrors,
      steps: this.#counters,
      ...(this.#polling ? { polling: sumPolling(this.#pollingBefore, this.#polling) } : {}),
      ingress: this.ingress.stats(),
      egress: this.#egress.stats(),
      swaps: { ...this.#swapStatus, watching: this.#crashLoop.steps, history: [...this.#swapStatus.history] },
      retiredSteps: [...this.#retired],
      ...(this.#memory ? { memory: this.#memory } : {}),
      stages: { ...this.#workerStages, egressWait: this.#egressWait.snapshot() },
    };
  }

  /**
   * Puts new versions of some steps live inside the running worker, between two batches, all or none
   * (docs/plugin-abi.md, "Swapping"): a canary run of the new versions on copies of their steps'
   * recent inputs in a worker of their own, then the swap in the pipeline's worker (instantiate and
   * configure there, check a decoder's plan, hand the state over). Any failure throws its WG_ERR_* and
   * leaves the old versions live: WG_ERR_SWAP_INCOMPATIBLE when only a restart can apply the change,
   * WG_ERR_SWAP_CANARY or WG_ERR_SWAP_FAILED otherwise. The swapped steps are then watched for a crash
   * loop, which rolls them back.
   */
  async swap(changes: ReadonlyArray<{ index: number; step: ChainStep }>): Promise<Array<{ index: number; handoff: Handoff }>> {
    const first = changes[0];
    if (!first) return [];
    const where = { pipeline: this.name, step: first.index, plugin: first.step.plugin.name };
    if (this.#swapping) throw new WgError('WG_ERR_SWAP_FAILED', { ...where, detail: 'another swap of this pipeline is under way' });
    if (this.#state !== 'running' || !this.#worker) throw new WgError('WG_ERR_SWAP_FAILED', { ...where, detail: `the pipeline is ${this.#state}${this.#reason ? ` (${this.#reason})` : ''}` });
    this.#swapping = true;
    try {
      try {
        const recent = await this.#ask({ op: 'recent', steps: changes.map((c) => c.index) }, where);
        if (!recent.ok) throw new WgError(recent.code as 'WG_ERR_SWAP_FAILED', recent.context);
        const steps = changes.map((c) => {
          const got = recent.recent!.find((r) => r.index === c.index)!;
          return { index: c.index, plugin: c.step.plugin, doc: { ...(got.doc as object), plugin: c.step.plugin.name, with: c.step.with }, inputs: got.inputs };
        });
        const canaryFrom = performance.now();
        await runCanary(this.name, steps, this.#options.canaryDeadlineMs ?? DEFAULT_CANARY_DEADLINE_MS);
        this.lastCanaryMs = performance.now() - canaryFrom;
        const reply = await this.#ask({ op: 'swap', steps: changes.map((c) => ({ index: c.index, step: { plugin: c.step.plugin, kind: c.step.kind, with: c.step.with } })) }, where);
        if (!reply.ok) throw new WgError(reply.code as 'WG_ERR_SWAP_FAILED', { ...reply.context, pipeline: this.name });
        const handoffs = reply.handoffs ?? [];
        this.lastSwapPauseMs = reply.pauseMs;
        const before = this.#options.steps;
        this.#options.steps = before.map((s, i) => changes.find((c) => c.index === i)?.step ?? s);
        for (const c of changes) {
          this.#retire(c.index, before[c.index]!, this.#counters[c.index]);
          this.#counters = this.#counters.map((k, i) => (i === c.index ? { ...k, plugin: c.step.plugin.name, batches: 0, itemsIn: 0, itemsOut: 0, traps: 0, errors: 0, reinstantiations: 0, busyNs: 0, stats: {} } : k));
          this.#previous.set(c.index, before[c.index]!);
          this.#crashLoop.watch(c.index);
          const handoff = handoffs.find((h) => h.index === c.index)?.handoff;
          this.#record({ step: c.index, plugin: c.step.plugin.name, ...(c.step.version ? { version: c.step.version } : {}), outcome: 'live', ...(handoff ? { handoff } : {}) });
        }
        this.#swapStatus.swaps++;
        await this.#ask({ op: 'watch', steps: this.#crashLoop.steps }, where).catch(() => undefined);
        return handoffs;
      } catch (err) {
        const e = err as WgError;
        for (const c of changes) this.#record({ step: c.index, plugin: c.step.plugin.name, ...(c.step.version ? { version: c.step.version } : {}), outcome: 'refused', code: e.code, reason: e.message });
        this.#swapStatus.refused++;
        throw err;
      }
    } finally {
      this.#swapping = false;
    }
  }

  #retire(index: number, step: ChainStep, counters: StepCounters | undefined): void {
    if (!counters || counters.batches + counters.traps + counters.errors === 0) return;
    this.#retired.push({ ...counters, step: index, ...(step.version ? { version: step.version } : {}) });
  }

  #record(record: Omit<SwapRecord, 'at'>): void {
    this.#swapStatus.history.push({ at: new Date().toISOString(), ...record });
    if (this.#swapStatus.history.length > SWAP_HISTORY) this.#swapStatus.history.shift();
  }

  /** Flushes what every step holds into the egress ring, between two batches. */
  async drain(): Promise<void> {
    const reply = await this.#ask({ op: 'drain' }, { pipeline: this.name });
    if (!reply.ok) throw new WgError(reply.code as 'WG_ERR_SWAP_FAILED', reply.context);
  }

  /** Which plugins the worker runs now, as it says itself. */
  async workerStatus(): Promise<{ plugins: string[]; batchesDone: number }> {
    const reply = await this.#ask({ op: 'status' }, { pipeline: this.name });
    if (!reply.ok) throw new WgError(reply.code as 'WG_ERR_SWAP_FAILED', reply.context);
    return { plugins: reply.plugins ?? [], batchesDone: reply.batchesDone ?? 0 };
  }

  #ask(request: WithoutId<ControlRequest>, where: Record<string, unknown>): Promise<ControlReply> {
    const port = this.#controlPort;
    if (!port || !this.#worker) return Promise.reject(new WgError('WG_ERR_SWAP_FAILED', { ...where, detail: 'the pipeline has no worker now' }));
    const id = this.#nextRequest++;
    return new Promise<ControlReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      port.postMessage({ ...request, id });
    });
  }

  #onControl(message: ControlReply | ControlEvent): void {
    if ('event' in message) {
      if (message.event === 'trap') this.#trapped(message.step, 'trapped');
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    pending.resolve(message);
  }

  /** The worker went away: nothing it was asked will be answered. */
  #abandonRequests(detail: string): void {
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.reject(new WgError('WG_ERR_SWAP_FAILED', { pipeline: this.name, step: -1, plugin: '?', detail: `the worker went away (${detail}) before it answered` }));
    }
  }

  /** A trap (or a worker killed or crashed) in a swapped step: roll it back when that makes a crash loop. */
  #trapped(step: number, what: string): void {
    if (!this.#crashLoop.trapped(step, monotonicMs())) return;
    const settings = this.#options.crashLoop ?? DEFAULT_CRASH_LOOP;
    void this.#rollback(step, `${what} more than ${settings.maxTraps} times within ${settings.windowMs / 1000} s after the swap`);
  }

  async #rollback(index: number, reason: string): Promise<void> {
    const previous = this.#previous.get(index);
    const current = this.#options.steps[index]!;
    if (!previous) return;
    this.#previous.delete(index);
    this.#crashLoop.forget(index);
    const started = monotonicMs();
    // Its counters as of now, not as of the last report (a second ago): the traps that made the loop count against it.
    const now = this.#state === 'running' && this.#worker ? await this.#ask({ op: 'status' }, { pipeline: this.name }).catch(() => undefined) : undefined;
    this.#retire(index, current, now?.ok ? now.counters?.[index] ?? this.#counters[index] : this.#counters[index]);
    this.#options.steps = this.#options.steps.map((s, i) => (i === index ? previous : s));
    const context = {
      event: 'plugin.rollback' as const, code: 'WG_ERR_SWAP_ROLLED_BACK', pipeline: this.name, step: index, plugin: current.plugin.name,
      ...(current.version ? { version: current.version } : {}), previous: previous.version ?? previous.plugin.name, reason,
    };
    let how = 'the next worker starts with it';
    if (this.#state === 'running' && this.#worker) {
      // The version that ran before needs no canary; the worker swaps it in between two batches.
      const reply = await this.#ask({ op: 'swap', steps: [{ index, step: { plugin: previous.plugin, kind: previous.kind, with: previous.with } }] }, context).catch((err: Error) => err);
      how = reply instanceof Error ? `the swap back failed (${reply.message}); the next worker starts with it` : reply.ok ? 'swapped back in the running worker' : `the swap back failed (${reply.code}: ${reply.message}); the next worker starts with it`;
      if (!(reply instanceof Error) && !reply.ok) void this.#worker?.terminate();
    }
    const ms = Math.round((monotonicMs() - started) * 1000) / 1000;
    this.#swapStatus.rollbacks++;
    this.#record({ step: index, plugin: previous.plugin.name, ...(previous.version ? { version: previous.version } : {}), outcome: 'rolled-back', code: 'WG_ERR_SWAP_ROLLED_BACK', reason });
    this.#options.logger.log(50, `step ${index} rolled back from ${current.plugin.name}${current.version ? ` ${current.version}` : ''} to ${previous.version ?? previous.plugin.name}: ${reason}; ${how}`, { ...context, rollbackMs: ms });
    void this.#ask({ op: 'watch', steps: this.#crashLoop.steps }, context).catch(() => undefined);
    this.#options.onRollback?.(index, previous, reason);
  }

  #spawn(): Promise<void> {
    const { ints } = this.#views;
    Atomics.store(ints, STATE, WorkerState.IDLE);
    const o = this.#options;
    const data: WorkerData = {
      context: o.context,
      steps: o.steps.map((s) => ({ plugin: s.plugin, kind: s.kind, with: s.with })),
      ingress: this.#ingressBuffer,
      egress: this.#egressBuffer,
      control: this.#control,
      maxBatchRecords: o.maxBatchRecords,
      maxBatchBytes: Math.max(4096, o.ingressBytes / 4),
      tickMs: o.tickMs ?? 1000,
      pollPort: this.#poll.open(),
      ...(o.rules ? { rules: o.rules } : {}),
      ...(o.rules && o.rulesState ? { rulesState: o.rulesState } : o.rules && o.rulesPatches ? { rulesPatches: o.rulesPatches } : {}),
      ...(o.rules && o.rulesTimeline ? { rulesTimeline: o.rulesTimeline } : {}),
    };
    const control = new MessageChannel();
    data.controlPort = control.port2;
    this.#controlPort?.close();
    this.#controlPort = control.port1;
    control.port1.on('message', (m: ControlReply | ControlEvent) => this.#onControl(m));
    const spare = o.spares?.take();
    const worker = spare ?? new Worker(WORKER_URL, { workerData: data, transferList: [data.pollPort, control.port2] });
    spare?.postMessage({ type: 'boot', data }, [data.pollPort, control.port2]);
    this.#worker = worker;
    this.#live.add(worker);
    worker.once('exit', () => this.#live.delete(worker));
    this.#droppedBefore += this.#workerDropped;
    this.#workerDropped = 0;
    this.#ruleErrorsBefore += this.#workerRuleErrors;
    this.#workerRuleErrors = 0;
    if (this.#polling) this.#pollingBefore = sumPolling(this.#pollingBefore, this.#polling);
    this.#polling = undefined;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            this.#state = 'running';
            this.#reason = undefined;
            if (!this.#plan) {
              // The first worker's plan and framing stand: pollers are built on them once.
              this.#plan = m.plan;
              this.#framing = m.framing;
            }
            this.#poll.markReady();
            if (this.#crashLoop.steps.length > 0) void this.#ask({ op: 'watch', steps: this.#crashLoop.steps }, { pipeline: this.name }).catch(() => undefined);
            resolve();
            break;
          case 'log':
            o.logger.log(m.level, m.message, m.context);
            break;
          case 'counters':
            this.#counters = m.steps;
            this.#memory = m.memory;
            this.#workerStages = m.stages;
            this.#workerDropped = m.batchesDropped;
            this.#workerRuleErrors = m.rulesEvalErrors ?? 0;
            if (m.polling) this.#polling = m.polling;
            if (m.steps.some((s) => s.batches > 0)) this.#restartDelay = 100;
            break;
          case 'configure-failed':
            // At start the caller hears of it and nothing runs. A pipeline that ran before is retried
            // with back-off (the exit handler): a configure can fail for a while (a clock, a licence).
            if (this.#plan === undefined && this.#restarts === 0) this.#fail(`${m.code}: ${m.message}`);
            else this.#reason = `${m.code}: ${m.message}`;
            reject(new WgError(m.code as 'WG_ERR_PLUGIN_CONFIGURE', { ...m.context, pipeline: this.name }));
            break;
          case 'stopped':
            this.#stopped?.();
            break;
          case 'rules':
            o.onRuleEvents?.(m.events);
            break;
          case 'rules-state':
            // A worker restarted by the watchdog goes on from the latest state, not from the file's first.
            if (m.state) o.rulesState = m.state;
            o.onRuleState?.(m.state, m.restored);
            break;
        }
      });
      worker.on('error', (err) => {
        o.logger.log(50, `worker crashed: ${err.message}`, { event: 'worker.crashed', code: 'WG_ERR_WORKER_CRASHED', pipeline: this.name });
      });
      worker.on('exit', (code) => {
        // A worker that dies while stop() waits for it (killed by the watchdog, or crashed) will never
        // say 'stopped': stop() must not wait out its fallback timer for it.
        if (this.#state === 'stopping') this.#stopped?.();
        if (this.#worker === worker) {
          this.#poll.close(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.name, detail: `its worker exited with code ${code}` }));
          this.#abandonRequests(`exit code ${code}`);
        }
        if (this.#worker !== worker || this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'failed') return;
        this.#settleExit();
        // A worker that dies under a swapped step counts against every swapped step: which one did it is not known.
        for (const step of this.#crashLoop.steps) this.#trapped(step, 'crashed its worker');
        this.#recover(`worker exited with code ${code}`, 'WG_ERR_WORKER_CRASHED');
      });
    });
  }

  /** The watchdog: terminate a worker whose plugin call (or configure) ran past its deadline. */
  #watch(): void {
    const { ints, floats } = this.#views;
    const state = Atomics.load(ints, STATE);
    const elapsed = Math.round(monotonicMs() - floats[STARTED_AT]!);
    const configuring = state === WorkerState.CONFIGURING || Atomics.load(ints, CALL) === WatchedCall.SWAP;
    const deadline = configuring ? this.#options.configureDeadlineMs ?? DEFAULT_CONFIGURE_DEADLINE_MS : this.#options.batchDeadlineMs;
    if ((state !== WorkerState.PROCESSING && state !== WorkerState.CONFIGURING) || elapsed <= deadline) return;
    if (Atomics.compareExchange(ints, STATE, state, WorkerState.KILLED) !== state) return;
    const step = Atomics.load(ints, STEP);
    const call = Atomics.load(ints, CALL);
    const plugin = this.#options.steps[step]?.plugin.name ?? '?';
    this.#kills++;
    const what = state === WorkerState.CONFIGURING ? 'configuring' : WATCHED_CALL_NAMES[call] ?? 'a call';
    this.#options.logger.log(50, `plugin ${plugin} ran ${elapsed} ms in ${what} (deadline ${deadline} ms); worker terminated`, {
      event: 'worker.deadline', code: 'WG_ERR_PLUGIN_TIMEOUT', pipeline: this.name, step, plugin,
    });
    const worker = this.#worker;
    this.#worker = undefined;
    this.#poll.close(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.name, detail: `plugin ${plugin} timed out in ${what}` }));
    this.#abandonRequests(`plugin ${plugin} timed out in ${what}`);
    if (call !== WatchedCall.SWAP && this.#crashLoop.watching(step)) this.#trapped(step, 'ran past its deadline');
    void worker?.terminate().then(() => {
      if (state === WorkerState.PROCESSING && call === WatchedCall.BATCH) {
        // Skip the batch that hung, so the fresh worker does not hang on it again.
        const reader = new RingReader(this.#ingressBuffer);
        reader.release(reader.inFlightEnd());
        this.#skipped++;
      }
      this.#recover(`plugin ${plugin} timed out in ${what}`, 'WG_ERR_PLUGIN_TIMEOUT');
    });
  }

  /**
   * A worker that died on its own (not killed by the watchdog) left the control state where it was.
   * Claim it, so the watchdog does not later report a dead worker as a plugin timeout; and skip the
   * batch it died in, which would kill every fresh worker the same way.
   */
  #settleExit(): void {
    const { ints } = this.#views;
    const state = Atomics.load(ints, STATE);
    if (state !== WorkerState.PROCESSING && state !== WorkerState.COMMITTING && state !== WorkerState.CONFIGURING) return;
    if (Atomics.compareExchange(ints, STATE, state, WorkerState.KILLED) !== state) return;
    if (state === WorkerState.CONFIGURING || Atomics.load(ints, CALL) !== WatchedCall.BATCH) return;
    const reader = new RingReader(this.#ingressBuffer);
    reader.release(reader.inFlightEnd());
    this.#skipped++;
  }

  #recover(reason: string, code: string): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'restarting';
    this.#reason = reason;
    this.#restarts++;
    const delay = this.#restartDelay;
    this.#restartDelay = Math.min(this.#restartDelay * 2, MAX_RESTART_DELAY_MS);
    if (delay >= MAX_RESTART_DELAY_MS) {
      this.#options.logger.log(60, `pipeline ${this.name} keeps failing (${reason}); retrying every ${MAX_RESTART_DELAY_MS / 1000} s`, { event: 'worker.restart_failed', code: 'WG_ERR_WORKER_RESTART_FAILED', pipeline: this.name, cause: code });
    }
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#spawn().catch((err: Error) => {
        this.#options.logger.log(60, `pipeline ${this.name} worker could not be restarted: ${err.message}`, { event: 'worker.restart_failed', code: 'WG_ERR_WORKER_RESTART_FAILED', pipeline: this.name });
      });
    }, delay);
  }

  #fail(reason: string): void {
    this.#state = 'failed';
    this.#reason = reason;
  }

  async #drain(): Promise<void> {
    const flow = this.#options.flow;
    while (this.#draining) {
      this.#drainNow(true);
      if (flow && flow.backlog() >= flow.limit) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([flow.whenBacklogBelow(flow.limit / 2), new Promise((r) => { timer = setTimeout(r, 200); })]);
        clearTimeout(timer);
      } else {
        await this.#egress.waitForDataAsync(200);
      }
    }
  }

  /** Hands egress messages to the uplink; with `respectFlow`, stops while the uplink's backlog is full. */
  #drainNow(respectFlow = false): void {
    const flow = respectFlow ? this.#options.flow : undefined;
    let first = true;
    while (!flow || flow.backlog() < flow.limit) {
      const record = this.#egress.next();
      if (!record) return;
      if (first) this.#egressWait.observe(this.#egress.waitedMs());
      first = false;
      const point = new DataView(record.buffer, record.byteOffset, 4).getUint32(0, true);
      this.#options.onMessage(point === 0xffffffff ? undefined : point, record.slice(4));
    }
  }
}

function sumPolling(a: PollingCounters, b: PollingCounters): PollingCounters {
  return { calls: a.calls + b.calls, traps: a.traps + b.traps, errors: a.errors + b.errors, reinstantiations: a.reinstantiations + b.reinstantiations };
}
