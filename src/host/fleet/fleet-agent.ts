/**
 * The gateway's side of a fleet rollout (docs/fleet.md): an MQTT client that listens on the
 * gateway's command topic (and its groups'), works on one command at a time, and publishes the outcome
 * of each, and of every crash-loop rollback, on the gateway's retained status topic.
 *
 * A client of its own, not the uplink's connection, though to the same broker with the same
 * credentials and TLS: the uplink's connection carries the outbox's data in order behind one queue,
 * so after an outage a status or a command would wait behind the whole backlog; and its policies
 * (poison watch, session takeover, message marks and expiry) are about data. The cost is one more
 * connection per gateway, with the client id `<uplink client id>-fleet`.
 *
 * Hostile input is bounded here: a payload too large for `fleet.max_package` is refused unread, a
 * command that is not one is refused with the field that is wrong, at most `fleet.queue` commands wait
 * (more are dropped and counted), and an id taken up before is never applied again (fleet-journal.ts).
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { isWgError, WgError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { ResolvedMqttUplink } from '../config/resolved.js';
import type { PluginOps } from '../control/plugin-control.js';
import type { StepRollback } from '../pipeline/pipeline-assembly.js';
import type { ResolvedFleet } from './fleet-settings.js';
import { commandIdOf, parseCommand, type FleetCommand } from './fleet-command.js';
import { FleetJournal } from './fleet-journal.js';
import { fetchPackage } from './package-fetch.js';
import { fleetStatus, type FleetCounters, type FleetOutcome, type FleetStatus } from './fleet-status.js';
import { RepeatLog } from '../pipeline/repeat-log.js';
import { logAt } from '../logger.js';

/** Bytes a command adds to its package's base64: the other fields, generously. */
const COMMAND_OVERHEAD_BYTES = 4096;
/**
 * MQTT 5: the broker sends nothing larger (CONNACK's Maximum Packet Size, asked in CONNECT), so a
 * payload far past `max_package` never reaches the gateway's memory; one up to this is read and
 * refused with a status.
 */
const PACKET_LIMIT_FACTOR = 4;
/** MQTT 5: how long the broker keeps the session (and the QoS 1 commands for it) while the gateway is away. */
const SESSION_EXPIRY_S = 24 * 3600;

export interface FleetAgentDeps {
  readonly gateway: Gateway;
  readonly logger: Logger;
  /** The gateway's plugin operations (control/plugin-ops.ts), loaded at the first command that needs them. */
  readonly ops: () => Promise<PluginOps>;
  readonly settings: ResolvedFleet;
  readonly uplink: ResolvedMqttUplink;
}

type Task = () => Promise<void>;

export class FleetAgent {
  readonly #deps: FleetAgentDeps;
  readonly #journal: FleetJournal;
  readonly #client: MqttClient;
  readonly #counters: FleetCounters = { received: 0, applied: 0, refused: 0, duplicates: 0, dropped: 0 };
  readonly #waiting: Task[] = [];
  #working = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #idle: Promise<void> = Promise.resolve();
  #settleIdle: () => void = () => undefined;
  readonly #repeats: RepeatLog;
  #lastConnectError: string | undefined;
  /** Connected now (a close after it is a lost connection, not a failed attempt). */
  #up = false;
  /** Install ids whose crash-loop rollback was reported already (one status per install). */
  readonly #reportedRollbacks = new Set<string>();
  #apply: Promise<typeof import('./fleet-apply.js')> | undefined;

  private constructor(deps: FleetAgentDeps, journal: FleetJournal, client: MqttClient) {
    this.#deps = deps;
    this.#journal = journal;
    this.#client = client;
    this.#repeats = new RepeatLog((level, message, context) => logAt(deps.logger, level, message, context));
    deps.gateway.onStepRolledBack((rollback) => void this.#enqueue(() => this.#rolledBack(rollback), true));
  }

  static async start(deps: FleetAgentDeps): Promise<FleetAgent> {
    const { journal, damaged } = await FleetJournal.open(deps.gateway.config.dataDir);
    if (damaged !== null) deps.logger.warn({ event: 'fleet.journal_damaged', file: journal.file, detail: damaged }, 'the fleet journal cannot be read; it starts empty (a command still within its expiry could be applied again)');
    const client = connect(deps.uplink.url, await clientOptions(deps));
    const agent = new FleetAgent(deps, journal, client);
    client.on('connect', () => agent.#connected());
    client.on('message', (topic, payload) => agent.#received(topic, payload));
    client.on('error', (err) => agent.#connectFailed(err));
    client.on('close', () => {
      if (agent.#up && !agent.#stopping) deps.logger.warn({ event: 'fleet.lost' }, 'fleet client lost its broker connection; reconnecting');
      agent.#up = false;
    });
    return agent;
  }

  /** Stops listening; a command being worked on is finished (its install is not cut off mid-way). */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#waiting.length = 0;
      await this.#idle;
      await this.#client.endAsync().catch(() => undefined);
    })();
    return this.#stopped;
  }

  #connected(): void {
    const { settings, logger } = this.#deps;
    this.#lastConnectError = undefined;
    this.#up = true;
    // A status is one small PUBLISH: Nagle's algorithm would hold it for the broker's delayed ACK (40 ms).
    (this.#client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.#client.subscribe([...settings.commandTopics], { qos: 1 }, (err) => {
      if (err) logger.error({ event: 'fleet.connect_failed', detail: `subscribe: ${err.message}` }, 'fleet client could not subscribe to its command topics');
      else logger.info({ event: 'fleet.connected', topics: settings.commandTopics, statusTopic: settings.statusTopic }, 'fleet client listening for commands');
    });
  }

  #connectFailed(err: Error): void {
    if (this.#stopping || err.message === this.#lastConnectError) return;
    this.#lastConnectError = err.message;
    this.#deps.logger.warn({ event: 'fleet.connect_failed', detail: err.message }, 'fleet client cannot connect to its broker; retrying');
  }

  #received(topic: string, payload: Buffer): void {
    // An empty message is how a retained command is cleared from its topic: nothing to answer.
    if (payload.length === 0) return;
    this.#counters.received++;
    if (!this.#enqueue(() => this.#handle(topic, payload), false)) {
      this.#counters.dropped++;
      this.#repeats.report('dropped', 40, `fleet command dropped unread: ${this.#deps.settings.queueLimit} commands wait already (fleet.queue)`, { event: 'fleet.dropped', topic, dropped: this.#counters.dropped });
    }
  }

  /** False when the queue is full (`always`: the gateway's own work, never dropped). */
  #enqueue(task: Task, always: boolean): boolean {
    if (this.#stopping) return false;
    if (!always && this.#waiting.length >= this.#deps.settings.queueLimit) return false;
    this.#waiting.push(task);
    if (!this.#working) void this.#pump();
    return true;
  }

  async #pump(): Promise<void> {
    this.#working = true;
    this.#idle = new Promise((resolve) => (this.#settleIdle = resolve));
    try {
      for (let task = this.#waiting.shift(); task; task = this.#waiting.shift()) {
        await task().catch((err: unknown) => this.#deps.logger.error({ event: 'fleet.failed', err }, `fleet command handling failed: ${(err as Error).message}`));
      }
    } finally {
      this.#working = false;
      this.#settleIdle();
    }
  }

  async #handle(topic: string, payload: Buffer): Promise<void> {
    const { settings, logger } = this.#deps;
    const inlineLimit = Math.ceil(settings.maxPackageBytes / 3) * 4 + COMMAND_OVERHEAD_BYTES;
    let command: FleetCommand;
    try {
      if (payload.length > inlineLimit) {
        throw new WgError('WG_ERR_FLEET_PACKAGE_SIZE', { id: idAtStart(payload) ?? '(none)', limit: settings.maxPackageBytes, detail: `the command is ${payload.length} bytes` });
      }
      command = parseCommand(payload);
    } catch (err) {
      const id = (err as WgError).context?.id;
      return this.#refused({ id: typeof id === 'string' && id !== '(none)' ? id : null, op: null }, err, { topic });
    }
    if (this.#journal.has(command.id)) {
      this.#counters.duplicates++;
      logger.info({ event: 'fleet.duplicate', id: command.id, op: command.op, topic }, `fleet command ${command.id} was taken up before: not applied again`);
      return;
    }
    const about = { id: command.id, op: command.op };
    const target = command.op === 'status' ? {} : { plugin: command.plugin, version: command.version };
    if (Date.now() > command.expiresMs) {
      return this.#refused(about, new WgError('WG_ERR_FLEET_EXPIRED', { id: command.id, expires: new Date(command.expiresMs).toISOString() }), target);
    }
    // A probe changes nothing and may be answered twice: only what changes plugins is journaled
    // (two fsyncs each, on an SD card).
    if (command.op !== 'status') await this.#journal.begin({ id: command.id, op: command.op, ...target, expiresMs: command.expiresMs }, Date.now());
    logger.info({ event: 'fleet.command', id: command.id, op: command.op, topic, ...target }, `fleet command ${command.id}: ${command.op}${command.op === 'status' ? '' : ` ${command.plugin} ${command.version}`}`);
    let outcome: FleetOutcome;
    let reason: string | undefined;
    try {
      if (command.op === 'status') outcome = 'status';
      else {
        const done = command.op === 'install' ? await this.#install(command) : await (await this.#applier()).applyRollback(command.plugin, command.version, await this.#deps.ops());
        outcome = done.outcome;
        reason = done.reason;
      }
    } catch (err) {
      if (command.op !== 'status') await this.#journal.finish(command.id, 'refused').catch(() => undefined);
      return this.#refused(about, err, target);
    }
    if (command.op !== 'status') await this.#journal.finish(command.id, outcome);
    if (outcome !== 'status') this.#counters.applied++;
    if (outcome !== 'status') logger.info({ event: 'fleet.applied', id: command.id, op: command.op, outcome, ...target, ...(reason ? { reason } : {}) }, `fleet command ${command.id}: ${outcome}${reason ? `: ${reason}` : ''}`);
    await this.#publish({ command: about, outcome, ...target, ...(reason ? { reason } : {}) });
  }

  async #install(command: Extract<FleetCommand, { op: 'install' }>): Promise<{ outcome: 'applied' | 'unchanged'; reason?: string }> {
    const { settings } = this.#deps;
    const { source, id } = command;
    let bytes: Uint8Array;
    if (source.kind === 'inline') {
      const size = (source.base64.length / 4) * 3 - (source.base64.endsWith('==') ? 2 : source.base64.endsWith('=') ? 1 : 0);
      if (size > settings.maxPackageBytes) throw new WgError('WG_ERR_FLEET_PACKAGE_SIZE', { id, limit: settings.maxPackageBytes, detail: `the package is ${size} bytes` });
      bytes = Buffer.from(source.base64, 'base64');
    } else {
      bytes = await fetchPackage(id, source.url, { maxBytes: settings.maxPackageBytes, timeoutMs: settings.fetchTimeoutMs });
    }
    // Before anything reads the bytes: the package is the one the command names, or nothing.
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== command.sha256) throw new WgError('WG_ERR_FLEET_HASH', { id, actual, expected: command.sha256 });
    return (await this.#applier()).applyInstall(id, command.plugin, command.version, bytes, await this.#deps.ops());
  }

  #applier(): Promise<typeof import('./fleet-apply.js')> {
    return (this.#apply ??= import('./fleet-apply.js'));
  }

  /**
   * A crash loop rolled a swapped step back (the registry follows it by itself, plugin-ops.ts): the
   * status topic says so, naming the fleet command that installed the version when one did.
   */
  async #rolledBack(rollback: StepRollback): Promise<void> {
    const plugin = rollback.from.plugin;
    const version = rollback.from.manifest.version;
    const install = this.#journal.lastInstall(plugin);
    const ours = install?.version === version ? install : undefined;
    if (ours && this.#reportedRollbacks.has(ours.id)) return; // one status per install, however many pipelines ran it
    if (ours) this.#reportedRollbacks.add(ours.id);
    const reason = `pipeline ${rollback.pipeline} step ${rollback.step}: ${plugin} ${version} rolled back to ${rollback.to.manifest.version}: ${rollback.reason}`;
    this.#deps.logger.warn({ event: 'fleet.rolled_back', plugin, version, pipeline: rollback.pipeline, ...(ours ? { id: ours.id } : {}), reason }, `crash-loop rollback of ${plugin} ${version} reported on the fleet status topic`);
    await this.#publish({ command: { id: ours?.id ?? null, op: ours ? 'install' : null }, outcome: 'rolled-back', plugin, version, code: 'WG_ERR_SWAP_ROLLED_BACK', reason });
  }

  async #refused(command: FleetStatus['command'], err: unknown, target: { plugin?: string; version?: string; topic?: string }): Promise<void> {
    const code = (err as WgError).code ?? 'WG_ERR_FLEET_COMMAND';
    const reason = (err as Error).message;
    if (!isWgError(err)) this.#deps.logger.error({ event: 'fleet.failed', err }, reason);
    this.#counters.refused++;
    const { topic, ...about } = target;
    this.#deps.logger.warn({ event: 'fleet.refused', id: command.id, code, ...about, ...(topic ? { topic } : {}) }, reason);
    await this.#publish({ command, outcome: 'refused', ...about, code, reason });
  }

  async #publish(about: Parameters<typeof fleetStatus>[1]): Promise<void> {
    const { gateway, settings, logger } = this.#deps;
    const status = fleetStatus(gateway.status(), about, this.#counters, new Date());
    await this.#client.publishAsync(settings.statusTopic, JSON.stringify(status), { qos: 1, retain: true }).catch((err: Error) => {
      logger.warn({ event: 'fleet.status_failed', topic: settings.statusTopic, detail: err.message }, 'fleet status could not be published');
    });
  }
}

/** The id a too-large payload gives in its first bytes (the rollout tool writes it first), for its refusal. */
function idAtStart(payload: Buffer): string | null {
  const m = /^\s*\{\s*"id"\s*:\s*"([^"]{1,128})"/.exec(payload.subarray(0, 256).toString('latin1'));
  return m ? commandIdOf({ id: m[1] }) : null;
}

async function clientOptions({ settings, uplink }: FleetAgentDeps): Promise<IClientOptions> {
  const version = uplink.protocol === '3.1.1' ? 4 : 5;
  const packetLimit = PACKET_LIMIT_FACTOR * (Math.ceil(settings.maxPackageBytes / 3) * 4 + COMMAND_OVERHEAD_BYTES);
  const tls = uplink.tls;
  return {
    clientId: settings.clientId,
    ...(uplink.username !== null && { username: uplink.username }),
    ...(uplink.password !== null && { password: uplink.password }),
    keepalive: uplink.keepaliveMs / 1000,
    reconnectPeriod: uplink.reconnect.maxMs,
    reconnectOnConnackError: true,
    protocolVersion: version,
    // A persistent session: a QoS 1 command sent while the gateway is away waits at the broker.
    clean: false,
    ...(version === 5 && { properties: { sessionExpiryInterval: SESSION_EXPIRY_S, maximumPacketSize: packetLimit } }),
    resubscribe: false,
    // See mqtt-protocol.ts: without it mqtt-packet keeps about 4 MB of cached numbers.
    writeCache: false,
    ...(tls && {
      ca: tls.ca ? await readFile(tls.ca) : undefined,
      cert: tls.cert ? await readFile(tls.cert) : undefined,
      key: tls.key ? await readFile(tls.key) : undefined,
      rejectUnauthorized: tls.rejectUnauthorized,
    }),
  };
}
