/**
 * Writes a gateway file and one pipeline file into a fresh temp directory, so integration tests run
 * the real config loader on real YAML with the ports their peers were given.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GatewayFixture {
  dir: string;
  gatewayFile: string;
  dispose(): Promise<void>;
}

export async function writeGatewayFixture(gatewayYaml: string, pipelineYaml: string): Promise<GatewayFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-test-'));
  const gatewayFile = join(dir, 'gateway.yaml');
  await writeFile(gatewayFile, gatewayYaml);
  await writeFile(join(dir, 'pipeline.yaml'), pipelineYaml);
  return { dir, gatewayFile, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A gateway file with one MQTT uplink "cloud" and the pipeline file ./pipeline.yaml (or the files
 * `pipelines` names), logging JSON at `logLevel` (default warn). `uplink` lines are added to the
 * uplink's `mqtt:` block as written (indent them by six spaces).
 */
export function gatewayYaml(brokerUrl: string, id = 'gw-test', options: { logLevel?: string; pipelines?: string[]; uplink?: string[] } = {}): string {
  const pipelines = options.pipelines ?? ['./pipeline.yaml'];
  return `gateway:
  id: ${id}
  data_dir: ./data
  log: { level: ${options.logLevel ?? 'warn'}, format: json }
uplinks:
  cloud:
    mqtt:
      url: ${brokerUrl}
      qos: 1
      reconnect: { min: 50ms, max: 500ms }
${(options.uplink ?? []).map((l) => `${l}\n`).join('')}pipelines:
${pipelines.map((p) => `  - ${p}\n`).join('')}`;
}

/**
 * The pipeline file many gateway tests share: pipeline "plant", one Modbus TCP device "plc" with one
 * point "level" (holding register 0, uint16), modbus then json, published to uplink "cloud" as
 * "plant/{point}". `device` adds settings to the device (`retries: 0`, say).
 */
export function onePointPipelineYaml(plcPort: number, options: { intervalMs?: number; timeoutMs?: number; device?: string } = {}): string {
  const extra = options.device ? `, ${options.device}` : '';
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: ${options.intervalMs ?? 100}ms, timeout: ${options.timeoutMs ?? 300}ms${extra}, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
`;
}

/**
 * A pipeline file `name` reading `points` (uint16 holding registers 0, 1, … in order) from one Modbus
 * TCP device "plc" every 100 ms, modbus then json, published to uplink "cloud" as "<name>/{point}".
 * The reload tests edit a pipeline by writing it again with other points.
 */
export function pointsPipelineYaml(name: string, plcPort: number, points: readonly string[]): string {
  return `pipeline: { name: ${name} }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 100ms
        points:
${points.map((p, i) => `          - { name: ${p}, function: 3, address: ${i}, type: uint16 }`).join('\n')}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "${name}/{point}" }
`;
}
