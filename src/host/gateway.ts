/**
 * The running gateway: one sink per uplink, one assembled pipeline per pipeline file. Start order is
 * uplinks (connecting in the background), then pipelines; stop order is the reverse, so that frames
 * already read reach the worker, messages already encoded reach the uplink, and the uplink gets a
 * chance to deliver them before it closes.
 */
import type { ResolvedGateway } from './config/resolved.js';
import type { Logger } from './logger.js';
import { AssembledPipeline, type AssembledPipelineStatus } from './pipeline/pipeline-assembly.js';
import { uplinkKind } from './uplinks/uplink-kinds.js';
import type { Sink, SinkCounters, SinkState } from './sinks/sink.js';
import { systemClock, type Clock } from '../hal/clock.js';
import type { Transport } from '../hal/transport.js';
import type { ResolvedDevice, ResolvedLink, ResolvedPipeline } from './config/resolved.js';
import { pipelineFingerprint, planReload } from './reload/reload-plan.js';
import { SharedLinks } from './poll/shared-links.js';
import { openGatewayOutbox } from './outbox/open-outbox.js';
import type { GatewayOutbox, OutboxStatus } from './outbox/gateway-outbox.js';
import type { WriteResult } from './poll/point-write.js';
import { WgError } from './errors.js';

/** How long a stop waits for the uplinks to acknowledge what they were handed; the rest stays in the outbox. */
const OUTBOX_DRAIN_MS = 3_000;

export interface GatewayDeps {
  logger: Logger;
  clock?: Clock;
  transport?: (link: ResolvedLink, devices: readonly ResolvedDevice[]) => Transport;
  logMessages?: boolean;
  /** How often a status summary is logged, ms; 0 for never. */
  statusIntervalMs?: number;
}

export interface GatewayStatus {
  gateway: string;
  uplinks: Array<{ name: string; state: SinkState; lastError?: string; outbox?: OutboxStatus } & SinkCounters>;
  pipelines: AssembledPipelineStatus[];
}

/** What a reload did (docs/cli.md, `reload`). */
export interface ReloadOutcome {
  readonly unchanged: readonly string[];
  readonly changed: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export class Gateway {
  #config: ResolvedGateway;
  #deps?: GatewayDeps;
  /** Each running pipeline's fingerprint, taken when it started (reload-plan.ts). */
  readonly #fingerprints = new Map<string, string>();
  #reloading = false;
  /** Settles when the reload under way is done; a stop waits for it, so that it stops what the reload started. */
  #reloadDone: Promise<void> = Promise.resolve();
  #stopping = false;
  #sinks = new Map<string, Sink>();
  #pipelines: AssembledPipeline[] = [];
  /** One arbiter per line, whichever pipelines have devices on it. */
  readonly links = new SharedLinks();
  #outbox?: GatewayOutbox;
  #logger: Logger;
  #statusTimer?: NodeJS.Timeout;

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
    for (const pipeline of config.pipelines) this.#pipelines.push(await this.#startPipeline(pipeline));
    const every = deps.statusIntervalMs ?? 60_000;
    if (every > 0) {
      this.#statusTimer = setInterval(() => this.#logger.info({ event: 'gateway.status', status: summarize(this.status()) }, 'status'), every);
      this.#statusTimer.unref();
    }
    this.#logger.info({ event: 'gateway.started', gateway: config.id, pipelines: config.pipelines.length, uplinks: config.uplinks.length }, 'gateway started');
  }

  async #startPipeline(pipeline: ResolvedPipeline): Promise<AssembledPipeline> {
    const deps = this.#deps!;
    const fingerprint = await pipelineFingerprint(pipeline);
    const assembled = await AssembledPipeline.start(pipeline, {
      gatewayId: this.#config.id, sink: this.#sinks.get(pipeline.publish.uplink)!, logger: this.#logger, clock: deps.clock ?? systemClock,
      ...(deps.transport ? { transport: deps.transport } : {}), logMessages: deps.logMessages ?? false, links: this.links, outbox: this.#outbox!,
    });
    this.#fingerprints.set(pipeline.name, fingerprint);
    return assembled;
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
      const leaving = new Set([...plan.changed.map((p) => p.name), ...plan.removed]);
      const previous = this.#config.pipelines.filter((p) => leaving.has(p.name));
      await this.#stopPipelines(leaving);
      const started: AssembledPipeline[] = [];
      try {
        for (const p of [...plan.changed, ...plan.added]) started.push(await this.#startPipeline(p));
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
      this.#config = next;
      const outcome = { unchanged: plan.unchanged, changed: plan.changed.map((p) => p.name), added: plan.added.map((p) => p.name), removed: plan.removed };
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
    };
  }
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
