/**
 * Gateways that listen on the fleet's command topic, for the fleet tests: a gateway file with the
 * MQTT uplink "cloud", a `plugins:` block trusting the given key, a `fleet:` block (extra settings as
 * YAML lines), and the pipeline "plant" (modbus, outlier, json) whose outlier step the packages replace (outlier has no
 * wg_units, so a new version of it is swapped in the running worker, under the crash-loop watch);
 * and a plain MQTT client that sends commands as an operator's tool would, to read statuses back.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { FleetStatus } from '../../src/host/fleet/fleet-status.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from './gateway-fixture.js';
import { subscribe, type TestSubscriber } from './mqtt-subscriber.js';

export const PREFIX = 'wasmgate/fleet';
export const commandTopic = (gateway: string) => `${PREFIX}/gateway/${gateway}/command`;
export const statusTopic = (gateway: string) => `${PREFIX}/gateway/${gateway}/status`;

export function plantPipeline(plcPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 100ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: outlier
  - plugin: json
publish: { uplink: cloud, topic: "{gateway}/plant/{point}" }
`;
}

export async function writeFleetGateway(brokerUrl: string, id: string, plcPort: number, trustedKey: string, fleet: string[] = []): Promise<GatewayFixture> {
  const yaml = `${gatewayYaml(brokerUrl, id, { logLevel: 'info' })}plugins:
  require_signed: true
  trusted_keys: [${trustedKey}]
fleet:
  uplink: cloud
${fleet.map((l) => `  ${l}\n`).join('')}`;
  return writeGatewayFixture(yaml, plantPipeline(plcPort));
}

/** An operator's client: sends commands, and reads every status of `gateways` that arrives. */
export interface FleetOperator {
  readonly statuses: TestSubscriber;
  send(gateway: string, command: Record<string, unknown> | string, options?: { retain?: boolean }): Promise<void>;
  /** Publishes a command to any topic (a group's). */
  publish(topic: string, command: Record<string, unknown>): Promise<void>;
  /** The first status answering command `id`, waited for. */
  answer(id: string, timeoutMs?: number): Promise<FleetStatus>;
  /** Every status answering `id` so far (null: those answering no readable id). */
  answersTo(id: string | null): FleetStatus[];
  close(): Promise<void>;
}

export async function fleetOperator(brokerUrl: string): Promise<FleetOperator> {
  const statuses = await subscribe(brokerUrl, `${PREFIX}/gateway/+/status`);
  const client: MqttClient = await connectAsync(brokerUrl, { protocolVersion: 4, reconnectPeriod: 100 });
  // As the gateway's side does: a command is one small PUBLISH, not to be held by Nagle's algorithm.
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const parsed = () => statuses.messages.filter((m) => !m.retain).map((m) => JSON.parse(m.payload.toString()) as FleetStatus);
  const answersTo = (id: string | null) => parsed().filter((s) => s.command.id === id);
  return {
    statuses,
    async send(gateway, command, options = {}) {
      await client.publishAsync(commandTopic(gateway), typeof command === 'string' ? command : JSON.stringify(command), { qos: 1, retain: options.retain ?? false });
    },
    async publish(topic, command) {
      await client.publishAsync(topic, JSON.stringify(command), { qos: 1 });
    },
    async answer(id, timeoutMs = 30_000) {
      await statuses.waitUntil(() => answersTo(id).length > 0, `a status answering ${id}`, timeoutMs);
      return answersTo(id)[0]!;
    },
    answersTo,
    async close() {
      await client.endAsync(true);
      await statuses.close();
    },
  };
}

/** An expiry an hour away: commands the test sends are never refused as expired unless it means to. */
export function inAnHour(): string {
  return new Date(Date.now() + 3_600_000).toISOString();
}
