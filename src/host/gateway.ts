/**
 * The running gateway: one sink per uplink, one assembled pipeline per pipeline file. Start order is
 * uplinks (connecting in the background), then pipelines; stop order is the reverse, so that frames
 * already read reach the worker, messages already encoded reach the uplink, and the uplink gets a
 * chance to deliver them before it closes.
 */
import type { SpareWorkers } from './pipeline/spare-workers.js';
import type { ResolvedGateway } from './config/resolved.js';
import type { Logger } from './logger.js';
import { AssembledPipeline, type AssembledPipelineStatus, type StepRollback } from './pipeline/pipeline-assembly.js';
import { uplinkKind } from './uplinks/uplink-kinds.js';
import type { Sink, SinkCounters, SinkState } from './sinks/sink.js';
import { systemClock, type Clock } from '../hal/clock.js';
import type { Transport } from '../hal/transport.js';
import type { ResolvedDevice, ResolvedLink, ResolvedPipeline } from './config/resolved.js';
import { pipelineFingerprint, planReload, type RunningFingerprint } from './reload/reload-plan.js';
import { SharedLinks } from './poll/shared-links.js';
import { openGatewayOutbox } from './outbox/open-outbox.js';
import type { GatewayOutbox, OutboxStatus } from './outbox/gateway-outbox.js';
import type { WriteResult } from './poll/point-write.js';
import { WgError } from './errors.js';
import { processMemory, type ProcessMemory } from './memory/process-memory.js';
import { RuleAudit } from './rules/rule-audit.js';
import { markStart, startMarks } from './start-marks.js';

/** How long a stop waits for the uplinks to acknowledge what they were handed; the rest stays in the outbox. */
const OUTBOX_DRAIN_MS = 3_000;

export interface GatewayDeps {
  logger: Logger;
  clock?: Clock;
  transport?: (link: ResolvedLink, devices: readonly ResolvedDevice[]) => Transport;
  logMessages?: boolean;
  /** How often a status summary is logged, ms; 0 for never. */
  statusIntervalMs?: number;
  /** Pipeline workers started early, while the daemon loaded its modules (spare-workers.ts). */
  spares?: SpareWorkers;
}

export interface GatewayStatus {
  gateway: string;
  uplinks: Array<{ name: string; state: SinkState; lastError?: string; outbox?: OutboxStatus } & SinkCounters>;
  pipelines: AssembledPipelineStatus[];
  /** The process as the kernel counts it and the main thread's heap (each pipeline's worker: its `memory`). */
  memory?: ProcessMemory;
}

/** What a reload did (docs/cli.md, `reload`). */
export interface ReloadOutcome {
  readonly unchanged: readonly string[];
  readonly changed: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Pipelines whose steps were swapped in the running worker, with how each step's state went across. */
  readonly swapped: ReadonlyArray<{ readonly pipeline: string; readonly steps: ReadonlyArray<SwappedStep> }>;
  /** Swaps that failed: the old versions stay live, the pipeline keeps its previous settings. */
  readonly failed: ReadonlyArray<{ readonly pipeline: string; readonly code: string; readonly message: string }>;
}

export interface SwappedStep {
  readonly step: number;
  readonly plugin: string;
  readonly version: string;
  /** `restored`: the old version's state went across; `fresh`: the new one starts as configured. */
  readonly state: 'restored' | 'fresh';
  readonly reason?: string;
}

export class Gateway {
  #config: ResolvedGateway;
  #deps?: GatewayDeps;
  /** Each running pipeline's fingerprint, taken when it started (reload-plan.ts). */
  readonly #fingerprints = new Map<string, RunningFingerprint>();
  #reloading = false;
  /** Settles when the reload under way is done; a stop waits for it, so that it stops what the reload started. */
  #reloadDone: Promise<void> = Promise.resolve();
  #stopping = false;
  #sinks = new Map<string, Sink>();
  #pipelines: AssembledPipeline[] = [];
  /** One arbiter per line, whichever pipelines have devices on it. */
  readonly links = new SharedLinks();
  #outbox?: GatewayOutbox;
  #audit?: RuleAudit;
  #logger: Logger;
  #statusTimer?: NodeJS.Timeout;
  readonly #rollbackListeners: Array<(rollback: StepRollback) => void> = [];

  private constructor(config: ResolvedGateway, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** The configuration running now: the one started with, or the last reload applied. */
  get config(): ResolvedGateway {
    return this.#config;
  }

  static async start(config: ResolvedGateway, deps: GatewayDeps): Promise<Gateway> {
    const gateway = new Gateway(config, deps.logger);
    try {
      await gateway.#start(deps);
    } catch (err) {
      await gateway.stop();
      throw err;
    }
    return gateway;
  }

  async #start(deps: GatewayDeps): Promise<void> {
    const { config } = this;
    this.#deps = deps;
    for (const uplink of config.uplinks) {
      const sink = await uplinkKind(uplink.transport)!.sink(uplink, this.#logger);
      sink.start();
      this.#sinks.set(uplink.name, sink);
    }
    this.#outbox = await openGatewayOutbox(config, this.#sinks, this.#logger);
    this.#outbox.start();
    this.#audit = new RuleAudit(config.dataDir, this.#logger);
    // One after the other, in file order: pipelines that share a line (an RS-485 bus) join its arbiter
    // in that order, so the line is named after the first of them in status and logs, whatever each
    // one's start took. (Side by side measured nothing outside the noise of a loaded machine, and made
    // that order depend on timing: interop/shared-bus.test.ts.)
    for (const pipeline of config.pipelines) this.#pipelines.push(await this.#startPipeline(pipeline));
    const every = deps.statusIntervalMs ?? 60_000;
    if (every > 0) {
      this.#statusTimer = setInterval(() => this.#logger.info({ event: 'gateway.status', status: summarize(this.status()) }, 'status'), every);
      this.#statusTimer.unref();
    }
    markStart('gateway');
    this.#logger.info({ event: 'gateway.started', gateway: config.id, pipelines: config.pipelines.length, uplinks: config.uplinks.length, startMs: startMarks() }, 'gateway started');
  }

  async #startPipeline(pipeline: ResolvedPipeline): Promise<AssembledPipeline> {
    const deps = this.#deps!;
    const fingerprint = await pipelineFingerprint(pipeline);
    const assembled = await AssembledPipeline.start(pipeline, {
      gatewayId: this.#config.id, sink: this.#sinks.get(pipeline.publish.uplink)!, logger: this.#logger, clock: deps.clock ?? systemClock,
      ...(deps.transport ? { transport: deps.transport } : {}), logMessages: deps.logMessages ?? false, links: this.links, outbox: this.#outbox!, audit: this.#audit!, dataDir: this.#config.dataDir,
      ...(deps.spares ? { spares: deps.spares } : {}),
    });
    this.#fingerprints.set(pipeline.name, fingerprint);
    assembled.onStepsChanged = (now) => void this.#runsNow(now);
    assembled.onRolledBack = (rollback) => this.#rollbackListeners.forEach((listener) => listener(rollback));
    return assembled;
  }

  /** Calls `listener` whenever a crash loop rolls a step back in any pipeline (packages/registry-guard.ts). */
  onStepRolledBack(listener: (rollback: StepRollback) => void): void {
    this.#rollbackListeners.push(listener);
  }

  /** A pipeline's steps changed in place (a swap, a rollback): the reload compares against what runs. */
  async #runsNow(pipeline: ResolvedPipeline): Promise<void> {
    this.#fingerprints.set(pipeline.name, await pipelineFingerprint(pipeline));
    this.#config = { ...this.#config, pipelines: this.#config.pipelines.map((p) => (p.name === pipeline.name ? pipeline : p)) };
  }

  /**
   * Swaps the steps the plan names inside each running pipeline. A swap that cannot be done in place
   * (WG_ERR_SWAP_INCOMPATIBLE: a decoder whose request plan changed, units that changed) is returned to
   * be restarted instead; any other failure leaves the old versions live and is reported.
   */
  async #swapAll(plan: Awaited<ReturnType<typeof planReload>>): Promise<{ swapped: ReloadOutcome['swapped']; failed: ReloadOutcome['failed']; restart: ResolvedPipeline[]; kept: ResolvedPipeline[] }> {
    const swapped: Array<ReloadOutcome['swapped'][number]> = [];
    const failed: Array<ReloadOutcome['failed'][number]> = [];
    const restart: ResolvedPipeline[] = [];
    const kept: ResolvedPipeline[] = [];
    for (const { pipeline, steps } of plan.swapped) {
      const running = this.#pipelines.find((p) => p.name === pipeline.name)!;
      const started = performance.now();
      try {
        const done = await running.swap(pipeline, steps);
        const ms = Math.round((performance.now() - started) * 10) / 10;
        const list = done.map((d): SwappedStep => ({ step: d.index, plugin: d.plugin, version: d.version, state: d.handoff.state, ...(d.handoff.state === 'fresh' ? { reason: d.handoff.reason } : {}) }));
        for (const d of list) {
          if (d.state === 'restored') this.#logger.info({ event: 'plugin.swapped', pipeline: pipeline.name, step: d.step, plugin: d.plugin, version: d.version, state: 'restored', installMs: ms }, `step ${d.step} now runs ${d.plugin} ${d.version}; its state was handed over`);
          else this.#logger.warn({ event: 'plugin.swapped', pipeline: pipeline.name, step: d.step, plugin: d.plugin, version: d.version, state: 'fresh', reason: d.reason, installMs: ms }, `step ${d.step} now runs ${d.plugin} ${d.version}, starting fresh: ${d.reason}`);
        }
        swapped.push({ pipeline: pipeline.name, steps: list });
        await this.#runsNow(running.pipeline);
      } catch (err) {
        const e = err as WgError;
        if (e.code === 'WG_ERR_SWAP_INCOMPATIBLE') {
          this.#logger.warn({ event: 'plugin.swap_restart', pipeline: pipeline.name, code: e.code, err }, `${e.message}; the pipeline is restarted instead (its worker first decodes every frame already read)`);
          restart.push(pipeline);
          continue;
        }
        this.#logger.error({ event: 'plugin.swap_failed', pipeline: pipeline.name, code: e.code ?? 'WG_ERR_SWAP_FAILED', err }, e.message);
        failed.push({ pipeline: pipeline.name, code: e.code ?? 'WG_ERR_SWAP_FAILED', message: e.message });
        kept.push(running.pipeline);
      }
    }
    return { swapped, failed, restart, kept };
  }

  /**
   * Applies a configuration read again (SIGHUP, `wasmgate reload`): pipelines whose settings and plugin
   * modules are unchanged keep running untouched; changed and removed ones stop, changed and new ones
   * start. Refused, changing nothing, when a gateway-level setting changed (WG_ERR_RELOAD_REFUSED). If a
   * pipeline fails to start, what this reload started is stopped and the previous pipelines are started
   * again (WG_ERR_RELOAD_FAILED). What the outbox holds is never touched.
   */
  async reload(next: ResolvedGateway): Promise<ReloadOutcome> {
    // A reload reads its files before it gets here, so a stop may have begun meanwhile.
    if (this.#stopping) throw new WgError('WG_ERR_RELOAD_REFUSED', { file: next.file, detail: 'the gateway is stopping (nothing was changed)' });
    if (this.#reloading) throw new WgError('WG_ERR_RELOAD_REFUSED', { file: next.file, detail: 'a reload is already under way' });
    this.#reloading = true;
    let settle!: () => void;
    this.#reloadDone = new Promise<void>((resolve) => (settle = resolve));
    try {
      const plan = await planReload(this.#config, next, this.#fingerprints);
      if (plan.needsRestart.length > 0) {
        throw new WgError('WG_ERR_RELOAD_REFUSED', { file: next.file, detail: `${plan.needsRestart.join(', ')} changed: a reload applies pipeline changes only; restart the daemon to apply these (nothing was changed)` });
      }
      const swaps = await this.#swapAll(plan);
      const changed = [...plan.changed, ...swaps.restart];
      const leaving = new Set([...changed.map((p) => p.name), ...plan.removed]);
      const previous = this.#config.pipelines.filter((p) => leaving.has(p.name));
      await this.#stopPipelines(leaving);
      const started: AssembledPipeline[] = [];
      try {
        for (const p of [...changed, ...plan.added]) started.push(await this.#startPipeline(p));
      } catch (err) {
        await Promise.all(started.map((p) => p.stop()));
        for (const p of started) this.#fingerprints.delete(p.name);
        // Back to what ran before; a pipeline that cannot even come back is reported with the rest.
        for (const p of previous) this.#pipelines.push(await this.#startPipeline(p));
        throw new WgError('WG_ERR_RELOAD_FAILED', { file: next.file, detail: (err as Error).message }, { cause: err });
      }
      this.#pipelines.push(...started);
      const order = new Map(next.pipelines.map((p, i) => [p.name, i]));
      this.#pipelines.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
      // What runs now: the new file, but a pipeline whose swap failed keeps the settings it runs with.
      const swappedNow = new Map(this.#config.pipelines.map((p) => [p.name, p]));
      const swappedNames = new Set(swaps.swapped.map((x) => x.pipeline));
      this.#config = { ...next, pipelines: next.pipelines.map((p) => (swappedNames.has(p.name) ? swappedNow.get(p.name) ?? p : swaps.kept.find((k) => k.name === p.name) ?? p)) };
      const outcome: ReloadOutcome = {
        unchanged: plan.unchanged, changed: changed.map((p) => p.name), added: plan.added.map((p) => p.name), removed: plan.removed,
        swapped: swaps.swapped, failed: swaps.failed,
      };
      this.#logger.info({ event: 'reload.applied', ...outcome }, 'configuration reloaded');
      return outcome;
    } finally {
      this.#reloading = false;
      settle();
    }
  }

  async #stopPipelines(names: ReadonlySet<string>): Promise<void> {
    const stopping = this.#pipelines.filter((p) => names.has(p.name));
    this.#pipelines = this.#pipelines.filter((p) => !names.has(p.name));
    await Promise.all(stopping.map((p) => p.stop()));
    for (const name of names) this.#fingerprints.delete(name);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#statusTimer);
    // A reload past its checks may be stopping and starting pipelines: the stop takes what it leaves.
    await this.#reloadDone;
    // Together: each may need its deadline to stop a hung worker, and those must not add up.
    await Promise.all(this.#pipelines.map((p) => p.stop()));
    await this.#audit?.close();
    // What is not delivered within the drain stays in the outbox, for the next start.
    await this.#outbox?.drain(OUTBOX_DRAIN_MS);
    await Promise.all([...this.#sinks.values()].map((s) => s.close()));
    this.#outbox?.close();
    this.#logger.info({ event: 'gateway.stopped', gateway: this.config.id }, 'gateway stopped');
  }

  /**
   * Writes a point of a device of pipeline `pipeline` between its link's polls (the control socket's
   * `write`); resolves once the device confirmed it.
   */
  async write(pipeline: string, device: string, point: string, value: number): Promise<WriteResult> {
    const p = this.#pipelines.find((x) => x.name === pipeline);
    if (!p) throw new WgError('WG_ERR_WRITE_REFUSED', { device, point, detail: `the running gateway has no pipeline ${pipeline} (it has ${this.#pipelines.map((x) => x.name).join(', ')})` });
    return p.write(device, point, value);
  }

  status(): GatewayStatus {
    return {
      gateway: this.config.id,
      uplinks: [...this.#sinks.values()].map((s) => ({
        name: s.name, state: s.state, ...s.counters(), ...(s.lastError ? { lastError: s.lastError.message } : {}),
        ...(this.#outbox ? { outbox: this.#outbox.status(s.name) } : {}),
      })),
      pipelines: this.#pipelines.map((p) => p.status()),
      ...memoryField(),
    };
  }
}

function memoryField(): { memory?: ProcessMemory } {
  const memory = processMemory();
  return memory ? { memory } : {};
}

/** A compact status for the periodic log line. */
function summarize(status: GatewayStatus): unknown {
  return {
    uplinks: status.uplinks.map((u) => ({
      name: u.name, state: u.state, acked: u.acked, failed: u.failed, reconnects: u.reconnects,
      ...(u.outbox ? {
        outbox: {
          messages: u.outbox.messages, bytes: u.outbox.bytes, oldestAgeMs: u.outbox.oldestAgeMs, replayed: u.replayed,
          dropped: u.outbox.droppedByBytes + u.outbox.droppedByAge, deadLetters: u.outbox.deadLetters,
        },
      } : {}),
    })),
    pipelines: status.pipelines.map((p) => ({
      name: p.name, state: p.state, published: p.published, dropped: p.batchesDropped, kills: p.watchdogKills,
      devices: p.devices.map((d) => ({ name: d.device, connected: d.connected, timeouts: d.timeouts, linkErrors: d.linkErrors })),
    })),
  };
}
