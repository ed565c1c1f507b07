/**
 * Puts one configured pipeline together: compiles its plugins (checking the ABI), starts its worker
 * (which also runs the decoder's polling instance, under the watchdog), starts one poller per device
 * on the request plan the worker reported, and routes the encoder's messages to the uplink with their
 * rendered topics.
 */
import type { ResolvedPipeline } from '../config/resolved.js';
import { renderTopic } from '../config/topic-template.js';
import { WgError } from '../errors.js';
import { logAt, type Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import { tcpTransport } from '../../hal/tcp.js';
import type { Clock } from '../../hal/clock.js';
import type { TransportFactory, NetTransportOptions } from '../../hal/transport.js';
import { DevicePoller, type DeviceStatus } from '../poll/device-poller.js';
import { FrameIngress } from '../poll/frame-ingress.js';
import { RuleProtocol } from '../poll/rule-protocol.js';
import { PipelineRunner, type PipelineStatus } from './pipeline-runner.js';
import { pipelineContext } from './settings-document.js';
import { compileSteps } from './step-modules.js';

/**
 * Messages the uplink may hold (queued or unacknowledged) before pipelines stop handing it more: about
 * 2-3 MB of small JSON messages. Past it, readings wait in the rings and then at the source.
 */
const UPLINK_BACKLOG_LIMIT = 10_000;

/**
 * The largest Modbus TCP frame (MBAP 7 + PDU 253, Modbus Messaging on TCP/IP, 4.1). One request is
 * outstanding per device, so more bytes than this waiting unread can only be a broken or hostile device.
 */
const MODBUS_TCP_MAX_ADU = 260;

export interface AssemblyDeps {
  gatewayId: string;
  sink: Sink;
  logger: Logger;
  clock: Clock;
  transport?: TransportFactory<NetTransportOptions>;
  /** Log every published message at info (the demo). */
  logMessages?: boolean;
}

export interface AssembledPipelineStatus extends PipelineStatus {
  devices: DeviceStatus[];
  framesWritten: number;
  backPressureWaits: number;
  published: number;
}

export class AssembledPipeline {
  readonly name: string;
  #runner: PipelineRunner;
  #pollers: DevicePoller[] = [];
  #ingress: FrameIngress;
  #published = 0;

  private constructor(name: string, runner: PipelineRunner) {
    this.name = name;
    this.#runner = runner;
    this.#ingress = new FrameIngress(runner.ingress);
  }

  static async start(pipeline: ResolvedPipeline, deps: AssemblyDeps): Promise<AssembledPipeline> {
    const log = deps.logger.child({ pipeline: pipeline.name });
    const compiled = await compileSteps(pipeline);
    const context = pipelineContext(pipeline);
    const topics = pointTopics(pipeline, deps.gatewayId);
    const { publish } = pipeline;
    let assembled: AssembledPipeline | undefined;
    const runner = new PipelineRunner({
      name: pipeline.name,
      steps: pipeline.steps.map((s, i) => ({ plugin: compiled[i]!, kind: s.kind, with: s.with })),
      context,
      ingressBytes: pipeline.ring.ingressBytes,
      egressBytes: pipeline.ring.egressBytes,
      maxBatchRecords: pipeline.batch.maxRecords,
      batchDeadlineMs: pipeline.batch.deadlineMs,
      logger: { log: (level, message, ctx) => logAt(log, level, message, ctx) },
      flow: { limit: UPLINK_BACKLOG_LIMIT, backlog: () => deps.sink.backlog(), whenBacklogBelow: (n) => deps.sink.whenBacklogBelow(n) },
      onMessage: (point, payload) => {
        const topic = point === undefined ? topics.many : topics.byPoint[point] ?? topics.many;
        assembled!.#published++;
        if (deps.logMessages) log.info({ topic }, Buffer.from(payload).toString());
        deps.sink.publish(topic, payload, { qos: publish.qos, retain: publish.retain }).catch(() => {
          // The sink counts and logs failed publishes; nothing more to do per message here.
        });
      },
    });
    const decoder = compiled[0]!;
    if (!decoder.facts.polling) {
      throw new WgError('WG_ERR_CONFIG_INVALID', { pipeline: pipeline.name, plugin: decoder.name, detail: `the source polls devices, but decoder ${decoder.name} does not export the polling group` });
    }
    assembled = new AssembledPipeline(pipeline.name, runner);
    try {
      await runner.start();
    } catch (err) {
      // A refused start leaves the runner's watchdog and drain loop going: stop them, or a refused
      // pipeline keeps the process alive.
      await runner.stop();
      throw err;
    }
    const plan = runner.plan!;
    // Framing by the decoder's rule when it declared one that holds; else each call in the worker.
    // Each device is framed by the rule of its own framing (tcp, rtu).
    const rules = runner.framing ? new RuleProtocol(runner.framing, pipeline.name) : undefined;
    const transport = deps.transport ?? tcpTransport;
    for (const device of pipeline.source.devices) {
      const requests = [...plan.keys()].filter((r) => plan[r] === device.index);
      const poller = new DevicePoller({
        device,
        requests,
        protocol: rules ? rules.forDevice(device.index) : runner.protocol,
        ingress: assembled.#ingress,
        maxFrameBytes: MODBUS_TCP_MAX_ADU,
        clock: deps.clock,
        transport: transport({ device: device.name, host: device.host, port: device.port, connectTimeoutMs: device.timeoutMs, rxLimitBytes: MODBUS_TCP_MAX_ADU }),
        log: (level, message, ctx) => logAt(log, level, message, ctx),
      });
      assembled.#pollers.push(poller);
      log.info({ device: device.name, host: device.host, port: device.port, requests: requests.length, points: device.points.length }, 'polling device');
      poller.start();
    }
    return assembled;
  }

  /** Stops polling, lets the worker finish what is in the ring, then stops it. */
  async stop(): Promise<void> {
    // While the uplink is down, back-pressure holds the worker and the poller waits on it: in a poll
    // call the worker cannot answer, or for room in the ingress ring. Neither may hold the stop.
    this.#ingress.close();
    this.#runner.abandonPolls();
    await Promise.all(this.#pollers.map((p) => p.stop()));
    await this.#runner.stop();
  }

  status(): AssembledPipelineStatus {
    return {
      ...this.#runner.status(),
      devices: this.#pollers.map((p) => p.status()),
      framesWritten: this.#ingress.framesWritten,
      backPressureWaits: this.#ingress.backPressureWaits,
      published: this.#published,
    };
  }
}

function pointTopics(pipeline: ResolvedPipeline, gateway: string): { byPoint: string[]; many: string } {
  const devices = pipeline.source.devices;
  const byPoint = pipeline.points.map((p) => renderTopic(pipeline.publish.topic, { gateway, pipeline: pipeline.name, device: devices[p.device]!.name, point: p.name }));
  const many = renderTopic(pipeline.publish.topic, { gateway, pipeline: pipeline.name, device: '', point: '' }).replace(/\/+$/, '').replace(/\/{2,}/g, '/');
  return { byPoint, many };
}
