/**
 * A gateway with two pipelines on one real PLC (modbus-serial's server) and one real broker: `healthy`
 * (modbus → json, one point polled every HEALTHY_INTERVAL_MS) and `hostile`, whose steps a test gives,
 * typically with a hostile WAT fixture as a `path:` step. Containment tests assert that whatever the
 * hostile pipeline does, the healthy one keeps publishing at its rate, counted over a window.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { writeGatewayFixture, type GatewayFixture } from './gateway-fixture.js';
import { subscribe, type TestSubscriber } from './mqtt-subscriber.js';
import { watBytes } from './plugins.js';

export const HEALTHY_INTERVAL_MS = 50;

export interface LogLine {
  level: number;
  msg: string;
  code?: string;
  pipeline?: string;
  plugin?: string;
  [key: string]: unknown;
}

export interface HostileGateway {
  gateway: Gateway;
  fixture: GatewayFixture;
  /** Subscribed to the healthy pipeline's topic only. */
  healthy: TestSubscriber;
  logs: LogLine[];
  /**
   * Over the next `windowMs`: the healthy messages that arrived, and the polls the healthy device
   * answered (from the gateway's own status), for keptUp.
   */
  healthyOver(windowMs: number): Promise<HealthyWindow>;
  /** Healthy messages that arrive during the next `windowMs`. */
  healthyCountOver(windowMs: number): Promise<number>;
  dispose(): Promise<void>;
}

/** Writes `<dir>/<stem>.wasm` (compiled from test/fixtures/plugins/<stem>.wat) and its manifest. */
export async function placeWatPlugin(dir: string, stem: string, kind: 'decoder' | 'transform' | 'encoder'): Promise<string> {
  await writeFile(join(dir, `${stem}.wasm`), watBytes(stem));
  await writeFile(join(dir, `${stem}.plugin.yaml`), `name: ${stem}
kind: ${kind}
abi: 1
version: 0.1.0
description: Hostile test fixture ${stem}.wat.
with:
  type: object
  additionalProperties: false
  properties: {}
`);
  return `./${stem}.wasm`;
}

/** A pipeline file polling holding register 0 of the PLC at `plcPort` every HEALTHY_INTERVAL_MS through `steps`. */
export function pipelineYaml(name: string, plcPort: number, steps: string, extra = ''): string {
  return `pipeline:
  name: ${name}
  batch: { max_records: 16, deadline: 300ms }
${extra}source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: ${HEALTHY_INTERVAL_MS}ms
        timeout: 300ms
        retries: 0
        backoff: { min: 50ms, max: 200ms }
        points:
          - { name: level, function: 3, address: 0, type: uint16 }
steps:
${steps}
publish:
  uplink: cloud
  topic: "t/${name}/{point}"
  qos: 0
`;
}

export interface HostileOptions {
  brokerUrl: string;
  /** The hostile pipeline's `steps:` entries as YAML lines; `place` may put fixtures next to them. */
  steps: string;
  place?: (dir: string) => Promise<void>;
  /** Extra lines under `pipeline:` of the hostile pipeline (e.g. `  plugin_memory: 4MiB`). */
  pipelineExtra?: string;
}

export interface HostileFiles {
  fixture: GatewayFixture;
  closePlc(): Promise<void>;
}

/** Writes the gateway and both pipeline files (and the hostile fixtures) for a fresh PLC. */
export async function writeHostileFiles(options: HostileOptions): Promise<HostileFiles> {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [4242] } } });
  const gatewayYaml = `gateway:
  id: gw
  data_dir: ./data
  log: { level: info, format: json }
uplinks:
  cloud:
    mqtt: { url: ${options.brokerUrl}, qos: 0, reconnect: { min: 50ms, max: 500ms } }
pipelines:
  - ./pipeline.yaml
  - ./hostile.yaml
`;
  const fixture = await writeGatewayFixture(gatewayYaml, pipelineYaml('healthy', plc.port, '  - plugin: modbus\n  - plugin: json'));
  await writeFile(join(fixture.dir, 'hostile.yaml'), pipelineYaml('hostile', plc.port, options.steps, options.pipelineExtra));
  await options.place?.(fixture.dir);
  return { fixture, closePlc: () => plc.close() };
}

export async function startHostileGateway(options: HostileOptions): Promise<HostileGateway> {
  const { fixture, closePlc } = await writeHostileFiles(options);
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as LogLine); } });
  const healthy = await subscribe(options.brokerUrl, 't/healthy/#', { qos: 0 });
  const gateway = await Gateway.start(loaded.config, { logger, statusIntervalMs: 0 });
  return {
    gateway,
    fixture,
    healthy,
    logs,
    async healthyOver(windowMs) {
      const answered = () => gateway.status().pipelines.find((p) => p.name === 'healthy')!.devices[0]!.responses;
      const [before, answeredBefore] = [healthy.messages.length, answered()];
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      return { delivered: healthy.messages.length - before, answered: answered() - answeredBefore };
    },
    async healthyCountOver(windowMs) {
      const before = healthy.messages.length;
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      return healthy.messages.length - before;
    },
    async dispose() {
      await gateway.stop();
      await healthy.close();
      await closePlc();
      await fixture.dispose();
    },
  };
}

export interface HealthyWindow {
  delivered: number;
  answered: number;
}

/**
 * Messages of answered polls still on their way when a window closes (one batch of the healthy
 * pipeline's worker, and its trip through the outbox and the broker), at most.
 */
const IN_FLIGHT = 5;

/**
 * The healthy pipeline kept up while the hostile one did its worst: it kept polling (a few answers
 * in the window: it ran, whatever the machine's load), and every poll it answered reached the
 * subscriber, but for the few still on their way. A ratio within one run, not a rate: a slow machine
 * slows both sides alike.
 */
export function assertKeptUp({ delivered, answered }: HealthyWindow): void {
  assert.ok(answered >= 3, `the healthy device answered ${answered} polls in the window: its pipeline stopped polling`);
  assert.ok(delivered >= answered - IN_FLIGHT, `the healthy pipeline delivered ${delivered} messages for ${answered} answered polls`);
}

/** What the healthy pipeline must at least deliver in `windowMs`: well over half its nominal rate. */
export function keepsItsRate(windowMs: number): number {
  return Math.floor((windowMs / HEALTHY_INTERVAL_MS) * 0.6);
}
