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
import type { ResolvedDevice, ResolvedLink } from './config/resolved.js';
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

export class Gateway {
  readonly config: ResolvedGateway;
  #sinks = new Map<string, Sink>();
  #pipelines: AssembledPipeline[] = [];
  /** One arbiter per line, whichever pipelines have devices on it. */
  readonly links = new SharedLinks();
  #outbox?: GatewayOutbox;
  #logger: Logger;
  #statusTimer?: NodeJS.Timeout;

  private constructor(config: ResolvedGateway, logger: Logger) {
    this.config = config;
    this.#logger = logger;
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
    for (const uplink of config.uplinks) {
      const sink = await uplinkKind(uplink.transport)!.sink(uplink, this.#logger);
      sink.start();
      this.#sinks.set(uplink.name, sink);
    }
    this.#outbox = await openGatewayOutbox(config, this.#sinks, this.#logger);
    this.#outbox.start();
    for (const pipeline of config.pipelines) {
      const sink = this.#sinks.get(pipeline.publish.uplink)!;
      this.#pipelines.push(await AssembledPipeline.start(pipeline, {
        gatewayId: config.id, sink, logger: this.#logger, clock: deps.clock ?? systemClock,
        ...(deps.transport ? { transport: deps.transport } : {}), logMessages: deps.logMessages ?? false, links: this.links, outbox: this.#outbox,
      }));
    }
    const every = deps.statusIntervalMs ?? 60_000;
    if (every > 0) {
      this.#statusTimer = setInterval(() => this.#logger.info({ status: summarize(this.status()) }, 'status'), every);
      this.#statusTimer.unref();
    }
    this.#logger.info({ gateway: config.id, pipelines: config.pipelines.length, uplinks: config.uplinks.length }, 'gateway started');
  }

  async stop(): Promise<void> {
    clearInterval(this.#statusTimer);
    // Together: each may need its deadline to stop a hung worker, and those must not add up.
    await Promise.all(this.#pipelines.map((p) => p.stop()));
    // What is not delivered within the drain stays in the outbox, for the next start.
    await this.#outbox?.drain(OUTBOX_DRAIN_MS);
    await Promise.all([...this.#sinks.values()].map((s) => s.close()));
    this.#outbox?.close();
    this.#logger.info({ gateway: this.config.id }, 'gateway stopped');
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
