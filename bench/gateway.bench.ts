/**
 * The gateway as a whole, as a separate process (`wasmgate run`), against real peers: simulated PLCs in
 * a process of their own (bench/plc-fleet.ts), mosquitto (aedes when it is not installed), and an MQTT
 * subscriber here. Figures: process start → first message at the subscriber; resident memory with
 * 2 pipelines, 10 plugins and 1,000 points; sustained Modbus TCP → MQTT points/s with one message per
 * point, and the latency from the poll's timestamp to the subscriber (p50, p99). Everything shares the
 * machine's two cores: the gateway, the PLCs, the broker and the subscriber.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { startMosquitto, mosquittoPath } from '../test/support/mosquitto.js';
import { startAedes } from '../test/support/aedes.js';
import { emitResult, printMachine } from './machine.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'bin', 'wasmgate.js');

interface Device { name: string; port: number; points: number; intervalMs: number }

function pipelineYaml(name: string, devices: Device[], steps: string): string {
  const deviceYaml = devices.map((d) => `      - name: ${d.name}
        host: 127.0.0.1
        port: ${d.port}
        interval: ${d.intervalMs}ms
        timeout: 1s
        points:
${Array.from({ length: d.points }, (_, i) => `          - { name: ${d.name}.t${i}, function: 3, address: ${i}, type: int16, unit: degC, scale: 0.1 }`).join('\n')}`).join('\n');
  return `pipeline:
  name: ${name}
  batch: { max_records: 256, deadline: 1s }
source:
  modbus_tcp:
    devices:
${deviceYaml}
steps:
${steps}
publish:
  uplink: cloud
  topic: "bench/{pipeline}/{point}"
  qos: 0
`;
}

async function gatewayDir(broker: string, pipelines: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-bench-'));
  await writeFile(join(dir, 'gateway.yaml'), `gateway:
  id: bench
  log: { level: warn, format: json }
uplinks:
  cloud:
    mqtt: { url: "${broker}", qos: 0 }
pipelines:
${Object.keys(pipelines).map((n) => `  - ./${n}.yaml`).join('\n')}
`);
  for (const [name, text] of Object.entries(pipelines)) await writeFile(join(dir, `${name}.yaml`), text);
  return dir;
}

function runGateway(dir: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'gateway.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function rssMb(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

const SCALE = '  - plugin: modbus\n  - plugin: scale\n    with: { points: {} }\n  - plugin: json\n    with: { shape: sample, timestamp: epoch_ms }';
const ETL = `  - plugin: modbus
  - plugin: si
  - plugin: outlier
  - plugin: resample
    with: { bucket: 1000, grace: 0 }
  - plugin: json
    with: { shape: bucket }`;

printMachine();
const fleet = spawn(process.execPath, [join(here, 'plc-fleet.js'), '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(fleet.stdout!, 'data')) as [Buffer];
const ports = JSON.parse(line.toString()) as number[];
const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
console.log(`broker: ${broker.kind}, PLCs on ${ports.join(', ')}`);
const subscriber = await connectAsync(broker.url, { reconnectPeriod: 0 });
let onMessage: (payload: Buffer) => void = () => {};
subscriber.on('message', (_t, payload) => onMessage(payload));
await subscriber.subscribeAsync('bench/#', { qos: 0 });

try {
  // 1. Start: process start → first message, median of 5.
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = await gatewayDir(broker.url, { boiler: pipelineYaml('boiler', [{ name: 'plc', port: ports[0]!, points: 7, intervalMs: 1000 }], SCALE) });
    const first = new Promise<number>((resolve) => { onMessage = () => resolve(performance.now()); });
    const t0 = performance.now();
    const child = runGateway(dir);
    starts.push((await first) - t0);
    onMessage = () => {};
    await stop(child);
    await rm(dir, { recursive: true });
  }
  starts.sort((a, b) => a - b);
  emitResult('process start → first MQTT message (median of 5)', starts[2]!, 'ms', '<= 300 ms');

  // 2. Footprint: 2 pipelines × 5 plugins, 1,000 points polled every second.
  {
    const dir = await gatewayDir(broker.url, {
      line1: pipelineYaml('line1', [{ name: 'plcA', port: ports[0]!, points: 500, intervalMs: 1000 }], ETL),
      line2: pipelineYaml('line2', [{ name: 'plcB', port: ports[1]!, points: 500, intervalMs: 1000 }], ETL),
    });
    let messages = 0;
    onMessage = () => { messages++; };
    const child = runGateway(dir);
    await new Promise((r) => setTimeout(r, 10_000));
    const { rss, peak } = await rssMb(child.pid!);
    emitResult(`RSS, 2 pipelines, 10 plugins, 1000 points, 1 s polls (${messages} bucket messages in 10 s)`, rss, 'MB', '<= 64 MB');
    emitResult('peak RSS (VmHWM), same run', peak, 'MB');
    await stop(child);
    await rm(dir, { recursive: true });
  }

  // 3. Throughput and latency, one MQTT message per point (QoS 0), 2 pipelines: first at a light load
  //    (1 device × 500 points every 100 ms = 5,000 points/s), where latency is the pipeline's own;
  //    then 4 devices × 500 points every 40 ms = 50,000 points/s offered.
  const loads = [
    { label: '5 k/s offered', devices: [[0], []], intervalMs: 100 },
    { label: '50 k/s offered', devices: [[0, 1], [2, 3]], intervalMs: 40 },
  ];
  for (const load of loads) {
    const [a, b] = load.devices.map((ids) => ids.map((i) => ({ name: `plc${i}`, port: ports[i]!, points: 500, intervalMs: load.intervalMs })));
    const dir = await gatewayDir(broker.url, {
      a: pipelineYaml('a', a!, SCALE),
      ...(b!.length > 0 ? { b: pipelineYaml('b', b!, SCALE) } : {}),
    });
    const latencies: number[] = [];
    let measuring = false;
    onMessage = (payload) => {
      if (!measuring) return;
      const ts = Number(/"ts":(\d+)/.exec(payload.toString())?.[1]);
      latencies.push(Date.now() - ts);
    };
    const child = runGateway(dir);
    await new Promise((r) => setTimeout(r, 3000));
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const { rss } = await rssMb(child.pid!);
    await stop(child);
    await rm(dir, { recursive: true });
    latencies.sort((x, y) => x - y);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const heavy = load.intervalMs === 40;
    emitResult(`Modbus TCP → MQTT, points/s delivered (${load.label}, 1 message per point, QoS 0)`, latencies.length / seconds, 'points/s', heavy ? '>= 50000 points/s' : undefined);
    emitResult(`poll → subscriber latency p50 (${load.label})`, at(0.5), 'ms');
    emitResult(`poll → subscriber latency p99 (${load.label})`, at(0.99), 'ms', '<= 5 ms');
    emitResult(`gateway RSS (${load.label})`, rss, 'MB');
  }
} finally {
  await subscriber.endAsync(true);
  await broker.dispose();
  fleet.kill('SIGTERM');
}
