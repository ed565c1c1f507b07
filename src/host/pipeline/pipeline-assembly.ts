/**
 * Puts one configured pipeline together: compiles its plugins (checking the ABI), starts its worker
 * (which also runs the decoder's polling instance, under the watchdog), starts one poller per device
 * on the request plan the worker reported, and routes the encoder's messages to the uplink with their
 * rendered topics.
 */
import type { SpareWorkers } from './spare-workers.js';
import type { ResolvedPipeline } from '../config/resolved.js';
import { pointTopics } from './point-topics.js';
import { WgError } from '../errors.js';
import { logAt, type Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import type { Clock } from '../../hal/clock.js';
import type { Transport } from '../../hal/transport.js';
import type { ResolvedDevice, ResolvedLink } from '../config/resolved.js';
import { pollPhaseMs } from '../poll/poll-phase.js';
import { DevicePoller, type DeviceStatus } from '../poll/device-poller.js';
import { CovSubscription } from '../poll/cov-subscription.js';
import { UnsolicitedIntake } from '../poll/unsolicited-intake.js';
import { LinkArbiter, type LinkStatus } from '../poll/link-arbiter.js';
import { TransactionDemux } from '../poll/transaction-demux.js';
import { SharedLinks, type LinkJoin, type LinkLease } from '../poll/shared-links.js';
import { writePoint, type PointWriteProtocol, type WriteResult } from '../poll/point-write.js';
import type { DeviceProtocol } from './poll-channel.js';
import { sourceKind } from '../sources/source-kinds.js';
import { characterTimeMs } from '../../hal/serial-timing.js';
import { FrameIngress } from '../poll/frame-ingress.js';
import { takesPushed, takesUnsolicited } from '../engine/abi.js';
import type { PushListener, PushSourceStatus } from '../sources/push-source.js';
import { RuleProtocol } from '../poll/rule-protocol.js';
import { PipelineRunner, type PipelineStatus } from './pipeline-runner.js';
import type { StepCounters } from './chain.js';
import { pipelineContext } from './settings-document.js';
import { compileStep, compileSteps } from './step-modules.js';
import type { Handoff } from './chain.js';
import type { GatewayOutbox } from '../outbox/gateway-outbox.js';
import { compileRuleSet } from '../rules/compiled-rules.js';
import { RuleActions, type RuleStatus } from '../rules/rule-actions.js';
import type { RuleAudit } from '../rules/rule-audit.js';
import { RuleStateFile } from '../rules/rule-state-file.js';
import { RuleStateKeeper } from '../rules/rule-state-keeper.js';
import { processClock } from '../rules/rule-timeline.js';

/**
 * Messages the uplink may hold (queued or unacknowledged) before pipelines stop handing it more: about
 * 2-3 MB of small JSON messages. Past it, readings wait in the rings and then at the source.
 */
const UPLINK_BACKLOG_LIMIT = 10_000;
/**
 * Bytes a pushed record's request part (sender, resource, media type) may take: an IPv6 address and
 * port, a resource of at most 255 bytes (the config's limit), a media type of at most 127; a push
 * source's bodies are capped at what the ring's record holds after it.
 */
const PUSHED_REQUEST_BYTES = 512;
/** How long a stop waits for the transactions on the wire before it closes the links under them. */
const STOP_GRACE_MS = 1_000;

/** Resolves when `work` settles or `ms` passed, whichever is first. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export interface AssemblyDeps {
  gatewayId: string;
  sink: Sink;
  logger: Logger;
  clock: Clock;
  /** Builds a link's transport; default: the link's source kind's factory. */
  transport?: (link: ResolvedLink, devices: readonly ResolvedDevice[]) => Transport;
  /** Log every published message at info (the demo). */
  logMessages?: boolean;
  /** Start the devices' pollers (default true); false for a pipeline that only writes (`wasmgate write`). */
  poll?: boolean;
  /** Where its links' arbiters come from: the gateway's, shared with its other pipelines (shared-links.ts); default its own. */
  links?: LinkJoin;
  /** A visitor (a probe or scan through the daemon): its transactions alternate with those of the links' own devices. */
  guest?: boolean;
  /**
   * The gateway's outbox (gateway-outbox.ts): messages go there instead of straight to `sink`, and the
   * pipeline never waits for the uplink (the outbox holds the backlog, within its caps).
   */
  outbox?: GatewayOutbox;
  /** Where rule writes are audited (data_dir/rules-audit.jsonl); none: only on the uplink. */
  audit?: RuleAudit;
  /** The gateway's data_dir: the rules' state is kept there (rule-state-file.ts); none: not kept. */
  dataDir?: string;
  /** Workers started early, for the runner to take (spare-workers.ts). */
  spares?: SpareWorkers;
}

/** A step's counters, with the version of its plugin (its manifest's). */
export interface StepStatus extends StepCounters {
  version: string;
}

export interface AssembledPipelineStatus extends PipelineStatus {
  /** One per configured step, in chain order; zero counters until the worker first reports them. */
  steps: StepStatus[];
  devices: DeviceStatus[];
  links: LinkStatus[];
  framesWritten: number;
  backPressureWaits: number;
  /** Unsolicited frames (ABI 1.4) dropped under a flood, and replies (ABI 1.6) not built or sent. */
  unsolicited: { dropped: number; repliesSkipped: number; replies: number };
  published: number;
  /** Each rule: active or not, fired and cleared counts, writes by outcome (docs/rules.md). */
  rules: RuleStatus[];
  /** Each push source (CoAP server, MQTT subscription) of the pipeline: what it took and refused. */
  pushSources: PushSourceStatus[];
}

/** A step the crash-loop guard rolled back: the version it ran (`from`) and the one it runs again (`to`). */
export interface StepRollback {
  readonly pipeline: string;
  readonly step: number;
  readonly from: ResolvedPipeline['steps'][number];
  readonly to: ResolvedPipeline['steps'][number];
  readonly reason: string;
}

export class AssembledPipeline {
  readonly name: string;
  #runner: PipelineRunner;
  #pollers: DevicePoller[] = [];
  #covs: CovSubscription[] = [];
  #intakes: UnsolicitedIntake[] = [];
  /** By link index; a push source's link has a listener instead (`#listeners`). */
  #links: LinkArbiter[] = [];
  #listeners: PushListener[] = [];
  #leases: LinkLease[] = [];
  #ingress: FrameIngress;
  #published = 0;
  #pipeline?: ResolvedPipeline;
  #clock?: Clock;
  #protocolOf?: (device: number) => DeviceProtocol;
  /** The resolved steps each swapped step ran before, for a rollback's status and the reload's fingerprint. */
  #previousSteps = new Map<number, ResolvedPipeline['steps'][number]>();
  #rules?: RuleActions;
  #stateKeeper?: RuleStateKeeper;
  /** Told when a crash loop rolled a step back (the gateway takes the pipeline's fingerprint again). */
  onStepsChanged?: (pipeline: ResolvedPipeline) => void;
  /** Told which step a crash loop rolled back, from which version to which (the registry records it). */
  onRolledBack?: (rollback: StepRollback) => void;

  private constructor(name: string, runner: PipelineRunner, decoderAbi: number | undefined) {
    this.name = name;
    this.#runner = runner;
    this.#ingress = new FrameIngress(runner.ingress, { takesUnsolicited: takesUnsolicited(decoderAbi) });
  }

  static async start(pipeline: ResolvedPipeline, deps: AssemblyDeps): Promise<AssembledPipeline> {
    const log = deps.logger.child({ pipeline: pipeline.name });
    const compiled = await compileSteps(pipeline);
    const context = pipelineContext(pipeline);
    const topics = pointTopics(pipeline, deps.gatewayId);
    const { publish } = pipeline;
    let assembled: AssembledPipeline | undefined;
    const hasRules = pipeline.rules.rules.length > 0;
    // Compiled here, checked by the engine like any plugin; it runs in the worker, never on this thread.
    const rulesModule = hasRules ? compileRuleSet(pipeline.rules, pipeline.name, pipeline.pluginMemoryBytes) : undefined;
    const ruleActions = hasRules
      ? new RuleActions({
        pipeline, gatewayId: deps.gatewayId, logger: log, monotonicMs: () => deps.clock.monotonicMs(),
        ...(deps.audit ? { audit: deps.audit } : {}),
        write: (device, point, value) => assembled!.write(device, point, value),
        publish: (topic, payload) => {
          if (deps.outbox) deps.outbox.enqueue(publish.uplink, topic, payload, 1, false);
          else deps.sink.publish(topic, payload, { qos: 1, retain: false }).catch(() => {});
        },
      })
      : undefined;
    // Taken back rule by rule (a changed rule set keeps what it still has), saved after the writes
    // the state's events asked for: a kill -9 between the two must not lose a write.
    const stateKeeper = ruleActions
      ? await RuleStateKeeper.load({
        set: pipeline.rules, pointKeys: pipeline.points.map((p) => `${pipeline.source.devices[p.device]?.name ?? p.device}:${p.name}`),
        file: deps.dataDir !== undefined ? new RuleStateFile(deps.dataDir, pipeline.name) : undefined,
        actions: ruleActions, logger: log, clock: processClock,
      })
      : undefined;
    const runner = new PipelineRunner({
      ...(deps.spares ? { spares: deps.spares } : {}),
      ...(rulesModule && stateKeeper ? { rules: rulesModule, onRuleEvents: (events) => ruleActions!.handle(events), onRuleState: (state, restored) => stateKeeper.onState(state, restored), rulesTimeline: stateKeeper.anchor } : {}),
      ...(stateKeeper?.patches ? { rulesPatches: stateKeeper.patches } : {}),
      name: pipeline.name,
      steps: pipeline.steps.map((s, i) => ({ plugin: compiled[i]!, kind: s.kind, with: s.with, version: s.manifest.version })),
      canaryDeadlineMs: pipeline.swap.canaryDeadlineMs,
      crashLoop: { maxTraps: pipeline.swap.rollbackTraps, windowMs: pipeline.swap.rollbackWindowMs },
      onRollback: (index, _step, reason) => assembled!.#rolledBack(index, reason),
      context,
      ingressBytes: pipeline.ring.ingressBytes,
      egressBytes: pipeline.ring.egressBytes,
      maxBatchRecords: pipeline.batch.maxRecords,
      batchDeadlineMs: pipeline.batch.deadlineMs,
      logger: { log: (level, message, ctx) => logAt(log, level, message, ctx) },
      // With the outbox, nothing waits on the uplink: what one turn took is appended at its end.
      flow: deps.outbox
        ? { limit: UPLINK_BACKLOG_LIMIT, backlog: () => 0, whenBacklogBelow: () => Promise.resolve() }
        : { limit: UPLINK_BACKLOG_LIMIT, backlog: () => deps.sink.backlog(), whenBacklogBelow: (n) => deps.sink.whenBacklogBelow(n) },
      onMessage: (point, payload) => {
        const topic = point === undefined ? topics.many : topics.byPoint[point] ?? topics.many;
        assembled!.#published++;
        if (deps.logMessages) log.info({ event: 'pipeline.message', topic }, Buffer.from(payload).toString());
        if (deps.outbox) {
          deps.outbox.enqueue(publish.uplink, topic, payload, publish.qos, publish.retain);
          return;
        }
        deps.sink.publish(topic, payload, { qos: publish.qos, retain: publish.retain }).catch(() => {
          // The sink counts and logs failed publishes; nothing more to do per message here.
        });
      },
    });
    const decoder = compiled[0]!;
    const polls = pipeline.source.links.some((l) => l.transport !== 'push');
    const pushes = pipeline.source.links.some((l) => l.transport === 'push');
    if (polls && !decoder.facts.polling) {
      throw new WgError('WG_ERR_CONFIG_INVALID', { pipeline: pipeline.name, plugin: decoder.name, detail: `the source polls devices, but decoder ${decoder.name} does not export the polling group` });
    }
    if (pushes && !takesPushed(pipeline.steps[0]?.manifest.abi)) {
      throw new WgError('WG_ERR_CONFIG_INVALID', { pipeline: pipeline.name, plugin: decoder.name, detail: `the source takes what devices push, but decoder ${decoder.name} declares abi ${pipeline.steps[0]?.manifest.abi ?? 1}: pushed frames go to decoders of 1.5 or later (the payload plugin is one)` });
    }
    assembled = new AssembledPipeline(pipeline.name, runner, pipeline.steps[0]?.manifest.abi);
    assembled.#pipeline = pipeline;
    if (ruleActions) assembled.#rules = ruleActions;
    if (stateKeeper) assembled.#stateKeeper = stateKeeper;
    try {
      await runner.start();
    } catch (err) {
      // A refused start leaves the runner's watchdog and drain loop going: stop them, or a refused
      // pipeline keeps the process alive.
      await runner.stop();
      throw err;
    }
    // A decoder without the polling group (a push source's) has no plan: no requests for any device.
    const plan = runner.plan ?? new Uint32Array(0);
    // Framing by the decoder's rule when it declared one that holds; else each call in the worker.
    // Each device is framed by the rule of its own framing (tcp, rtu); without rules, call by call in the worker.
    const rules = runner.framing ? new RuleProtocol(runner.framing, pipeline.name) : undefined;
    const protocolOf = (device: number): DeviceProtocol => (rules ? rules.forDevice(device) : runner.protocol);
    const { links, devices } = pipeline.source;
    assembled.#clock = deps.clock;
    assembled.#protocolOf = protocolOf;
    const join = deps.links ?? new SharedLinks();
    for (const link of links) {
      const served = link.devices.map((d) => devices[d]!);
      if (link.transport === 'push') {
        const ingress = assembled.#ingress;
        const listener = sourceKind(link.kind)!.listen!(link, served, {
          ingress: { push: (frame) => ingress.writePushed(frame), maxBodyBytes: Math.min(link.maxBodyBytes, ingress.maxPushedBody(PUSHED_REQUEST_BYTES)) },
          clock: deps.clock,
          log: (level, message, ctx) => logAt(log, level, message, ctx),
        });
        assembled.#listeners.push(listener);
        continue;
      }
      const lease = join.join(link, pipeline.name, () => {
        const transport = deps.transport ? deps.transport(link, served) : sourceKind(link.kind)!.transport!(link, served);
        const arbiter = new LinkArbiter(link, transport, deps.clock, link.transport === 'serial' ? characterTimeMs(link) : 0);
        // The devices of a link share its framing: the first one's protocol delimits for all of them.
        const protocol = protocolOf(link.devices[0]!);
        // A datagram link is always read by a demux: answers are matched by invoke id, and what a device
        // sends unasked goes into the ring as an unsolicited frame (ABI 1.4), never taken for an answer.
        if (link.inFlight > 1 || link.transport === 'udp') {
          const seqOf = protocol.seqOf?.bind(protocol);
          // Frames carry a sequence number when the rule writes one (seqMask): a probe of zero bytes
          // could fail the rule's `answers` test (ABI 1.6) and hide that.
          if (seqOf && protocol.seqMask !== undefined) {
            // What a device sends unasked goes into the ring, and the decoder's reply back (ABI 1.6).
            const intake = link.transport === 'udp'
              ? new UnsolicitedIntake({
                ingress: assembled!.#ingress, device: link.devices[0]!, sender: `${link.host}:${link.port}`, wallMs: () => deps.clock.wallMs(),
                ...(decoder.facts.replies ? { reply: (frame: Uint8Array) => runner.subscriptions.reply(frame) } : {}),
                ...(protocol.wantsReply ? { wantsReply: (frame: Uint8Array) => protocol.wantsReply!(frame) } : {}),
                send: (frame) => (transport.isOpen ? transport.write(frame) : Promise.resolve()),
              })
              : undefined;
            if (intake) assembled!.#intakes.push(intake);
            const onUnmatched = intake ? (frame: Uint8Array) => intake.take(frame) : undefined;
            arbiter.demux = new TransactionDemux(transport, {
              frameLength: (b) => protocol.frameLength(b), seqOf: (f) => seqOf(f) ?? -1, maxFrameBytes: link.maxFrameBytes,
              ...(protocol.seqMask !== undefined ? { seqMask: protocol.seqMask } : {}),
              ...(link.transport === 'udp' ? { datagrams: true, onUnmatched } : {}),
            }, deps.clock, link.name);
          } else if (link.inFlight > 1) {
            log.warn({ event: 'link.in_flight_limited', link: link.name, inFlight: link.inFlight }, `in_flight ${link.inFlight} needs a decoder whose framing rule carries a transaction id (wg_framing); ${decoder.name} has none, so link ${link.name} keeps one transaction at a time`);
          }
        }
        return arbiter;
      });
      assembled.#leases.push(lease);
      assembled.#links[link.index] = lease.arbiter;
    }
    // ABI 1.6: the decoder's subscriptions (BACnet SubscribeCOV), one device index each.
    const subscriptionPlan = decoder.facts.subscribes ? await runner.subscriptions.subscriptions() : new Uint32Array(0);
    for (const [position, device] of devices.entries()) {
      const link = links[device.link]!;
      if (link.transport === 'push') continue;
      const requests = [...plan.keys()].filter((r) => plan[r] === device.index);
      const where = link.transport === 'serial' ? { path: link.path } : { host: link.host, port: link.port };
      const cov = device.bacnet?.cov ? covSubscriptionOf(device, subscriptionPlan, assembled.#links[device.link]!) : undefined;
      if (device.bacnet?.cov && !cov) {
        log.warn({ event: 'device.cov_fallback', device: device.name, reason: `decoder ${decoder.name} has no subscriptions for it` }, `device ${device.name} is polled: decoder ${decoder.name} has no COV subscriptions for it (ABI 1.5 subscription group)`);
      }
      const poller = new DevicePoller({
        device: { ...device, ...where },
        requests,
        protocol: protocolOf(device.index),
        ingress: assembled.#ingress,
        maxFrameBytes: link.maxFrameBytes,
        clock: deps.clock,
        link: assembled.#links[device.link]!,
        ...(deps.guest ? { guest: true } : {}),
        phaseMs: pollPhaseMs(position, devices.length, device.intervalMs),
        log: (level, message, ctx) => logAt(log, level, message, ctx),
        ...(cov ? { pacing: cov } : {}),
      });
      assembled.#pollers.push(poller);
      if (deps.poll === false) continue;
      if (cov) {
        cov.onChange = () => poller.repace();
        assembled.#covs.push(cov);
        cov.start();
      }
      log.info({ event: 'device.polling', device: device.name, link: link.name, ...where, unitId: device.unitId, requests: requests.length, points: device.points.length }, 'polling device');
      poller.start();
    }
    if (deps.poll !== false) {
      try {
        for (const listener of assembled.#listeners) await listener.start();
      } catch (err) {
        await assembled.stop();
        throw err;
      }
    }
    return assembled;

    function covSubscriptionOf(device: ResolvedDevice, plan: Uint32Array, link: LinkArbiter): CovSubscription | undefined {
      const subscriptions = [...plan.keys()].filter((s) => plan[s] === device.index);
      if (subscriptions.length === 0 || !device.bacnet?.cov) return undefined;
      return new CovSubscription({
        device, cov: device.bacnet.cov, link, protocol: runner.subscriptions, subscriptions, clock: deps.clock,
        log: (level, message, ctx) => logAt(log, level, message, ctx),
      });
    }
  }

  /**
   * Writes `value` to point `point` of device `device` (names as configured), between the link's other
   * transactions; resolves once the device confirmed it (point-write.ts).
   */
  async write(device: string, point: string, value: number): Promise<WriteResult> {
    const pipeline = this.#pipeline!;
    const d = pipeline.source.devices.find((x) => x.name === device);
    if (!d) throw new WgError('WG_ERR_WRITE_REFUSED', { device, point, detail: `no device ${device} in pipeline ${pipeline.name}` });
    const p = d.points.find((x) => x.name === point);
    if (!p) throw new WgError('WG_ERR_WRITE_REFUSED', { device, point, detail: `device ${device} has no point ${point} (it has ${d.points.map((x) => x.name).join(', ')})` });
    if (pipeline.source.links[d.link]!.transport === 'push') {
      throw new WgError('WG_ERR_WRITE_REFUSED', { device, point, detail: `device ${device} pushes its readings to a ${d.kind} source: the gateway has no request to send it` });
    }
    const link = this.#links[d.link]!;
    const channel = this.#runner.protocol as unknown as PointWriteProtocol;
    const protocol: PointWriteProtocol = { writeFrame: (...a) => channel.writeFrame(...a), checkWrite: (...a) => channel.checkWrite(...a), frameLength: (b) => this.#protocolOf!(d.index).frameLength(b) };
    return writePoint({ device: d, point: p, value }, link, protocol, this.#clock!, pipeline.source.links[d.link]!.maxFrameBytes);
  }

  /** The configuration this pipeline runs now (after swaps and rollbacks). */
  get pipeline(): ResolvedPipeline {
    return this.#pipeline!;
  }

  /**
   * Swaps steps `steps` to their versions in `next` (same source, devices, links and publish; see
   * reload-plan.ts) inside the running worker. Throws the swap's WG_ERR_* and leaves the old versions
   * live; WG_ERR_SWAP_INCOMPATIBLE means only a restart can apply `next`.
   */
  async swap(next: ResolvedPipeline, steps: readonly number[]): Promise<Array<{ index: number; plugin: string; version: string; handoff: Handoff }>> {
    const compiled = await Promise.all(steps.map((i) => compileStep(next.steps[i]!.plugin, next.steps[i]!.wasmPath, next.steps[i]!.manifest.abi, next.pluginMemoryBytes)));
    const changes = steps.map((index, k) => {
      const s = next.steps[index]!;
      return { index, step: { plugin: compiled[k]!, kind: s.kind, with: s.with, version: s.manifest.version } };
    });
    const handoffs = await this.#runner.swap(changes);
    const before = this.#pipeline!;
    for (const index of steps) this.#previousSteps.set(index, before.steps[index]!);
    this.#pipeline = { ...before, steps: before.steps.map((s, i) => (steps.includes(i) ? next.steps[i]! : s)) };
    return handoffs.map((h) => ({ index: h.index, plugin: next.steps[h.index]!.plugin, version: next.steps[h.index]!.manifest.version, handoff: h.handoff }));
  }

  #rolledBack(index: number, reason: string): void {
    const previous = this.#previousSteps.get(index);
    if (!previous || !this.#pipeline) return;
    this.#previousSteps.delete(index);
    const from = this.#pipeline.steps[index]!;
    this.#pipeline = { ...this.#pipeline, steps: this.#pipeline.steps.map((s, i) => (i === index ? previous : s)) };
    this.onStepsChanged?.(this.#pipeline);
    this.onRolledBack?.({ pipeline: this.name, step: index, from, to: previous, reason });
  }

  /** Stops polling, lets the worker finish what is in the ring, then stops it. */
  async stop(): Promise<void> {
    // First no new polls, and the transaction each device has on the wire may finish: its answer is
    // a reading the device already gave, and goes through the chain like any other.
    for (const poller of this.#pollers) poller.halt();
    // Push sources refuse from now on; a body already accepted is written (or given up at the ring below).
    const listeners = Promise.all(this.#listeners.map((l) => l.stop()));
    await within(Promise.all([...this.#pollers.map((p) => p.stop()), listeners]), STOP_GRACE_MS);
    // COV subscriptions are cancelled while the links and the decoder are still there (one attempt
    // each); what a device misses ends with its lifetime.
    await within(Promise.all(this.#covs.map((c) => c.stop())), STOP_GRACE_MS);
    // Then whatever still waits is cut off. While the uplink is down, back-pressure holds the worker
    // and the poller waits on it: in a poll call the worker cannot answer, or for room in the ingress
    // ring. Neither may hold the stop.
    this.#ingress.close();
    this.#runner.abandonPolls();
    for (const poller of this.#pollers) poller.halt();
    // Closing the links ends the reads the pollers wait in; a link another pipeline still uses stays
    // open, and this pipeline's pollers end with their current transaction.
    await Promise.all(this.#leases.map((l) => l.leave()));
    await Promise.all(this.#pollers.map((p) => p.stop()));
    await this.#runner.stop();
    // The writes the last batches asked for: done (or refused) before the links are gone is too
    // late for most, but each is audited with its outcome.
    await this.#rules?.settled();
    await this.#stateKeeper?.settled();
  }

  status(): AssembledPipelineStatus {
    const runner = this.#runner.status();
    const steps = (this.#pipeline?.steps ?? []).map((step, i): StepStatus => ({
      ...(runner.steps[i] && runner.steps[i]!.plugin === step.plugin ? runner.steps[i]! : { plugin: step.plugin, kind: step.kind, batches: 0, itemsIn: 0, itemsOut: 0, traps: 0, errors: 0, reinstantiations: 0, busyNs: 0, stats: {} }),
      version: step.manifest.version,
    }));
    return {
      ...runner,
      steps,
      devices: this.#pollers.map((p) => p.status()),
      links: this.#links.flatMap((l) => (l ? [l.status()] : [])),
      framesWritten: this.#ingress.framesWritten,
      backPressureWaits: this.#ingress.backPressureWaits,
      unsolicited: this.#intakes.reduce((sum, i) => ({ dropped: sum.dropped + i.counters.dropped, repliesSkipped: sum.repliesSkipped + i.counters.repliesSkipped, replies: sum.replies + i.counters.replies }), { dropped: 0, repliesSkipped: 0, replies: 0 }),
      published: this.#published,
      rules: this.#rules?.status() ?? [],
      pushSources: this.#listeners.map((l) => l.status()),
    };
  }
}
