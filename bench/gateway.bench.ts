/**
 * The gateway as a whole, as a separate process (`wasmgate run`), against real peers: simulated PLCs in
 * a process of their own (bench/plc-fleet.ts), mosquitto (aedes when it is not installed), and an MQTT
 * subscriber here. Figures: process start → first message at the subscriber; resident memory with
 * 2 pipelines, 10 plugins and 1,000 points; sustained Modbus TCP → MQTT points/s with one message per
 * point, and the latency from the poll's timestamp to the subscriber (p50, p99). Everything shares the
 * machine's two cores: the gateway, the PLCs, the broker and the subscriber.
 *
 * Memory is measured per lever: the reference load runs once with Node's defaults (the baseline), once
 * per lever alone, and once as shipped (bin/daemon-runtime.js, the default rings), each in a fresh
 * daemon, in this one run; each prints RSS and RssAnon and the ratio to the baseline, and the baseline
 * and the shipped runs print the breakdown per thread and per module (memory-breakdown.ts). Levers that
 * are code, not flags (MQTT.js's number cache, the config modules), are measured by what loading them
 * costs a process (module-cost.ts). The throughput figures run with the defaults and as shipped, so a
 * flag that costs throughput shows next to what it saves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { connectAsync } from 'mqtt';
import { startMosquitto, mosquittoPath } from '../test/support/mosquitto.js';
import { startAedes } from '../test/support/aedes.js';
import { emitResult, printMachine } from './machine.js';
import { printBreakdown, readBreakdown, type Breakdown } from './memory-breakdown.js';
import { measureModuleCosts } from './module-cost.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'bin', 'wasmgate.js');

interface Device { name: string; port: number; points: number; intervalMs: number }

/** How a daemon is started: Node flags, environment, and the rings' size (undefined: the default). */
interface Runtime { label: string; flags: string[]; env: Record<string, string>; ring?: string }

/**
 * WG_BENCH_HOSTS="dist bundle": the start and the footprint as shipped, once per build of the host
 * (WASMGATE_HOST, bin/host-entry.js: tsc's output or the esbuild bundle), alternating in this one
 * run, with the ratio of each later host to the first. Unset: the host bin/wasmgate.js picks.
 */
const HOSTS: Array<string | undefined> = process.env.WG_BENCH_HOSTS?.split(' ').filter(Boolean) ?? [undefined];
const hostTag = (host: string | undefined): string => (HOSTS.length > 1 ? `, host ${host}` : '');
const withHost = (runtime: Runtime, host: string | undefined): Runtime =>
  host === undefined ? runtime : { ...runtime, label: `${runtime.label}${hostTag(host)}`, env: { ...runtime.env, WASMGATE_HOST: host } };

const { DAEMON_NODE_FLAGS, DAEMON_ENV } = (await import(join(here, '..', '..', 'bin', 'daemon-runtime.js'))) as { DAEMON_NODE_FLAGS: string[]; DAEMON_ENV: Record<string, string> };
/** Node's defaults and the rings as they were (1 MiB), nothing of the memory work. */
const BASELINE: Runtime = { label: 'Node defaults, 1 MiB rings', flags: [], env: {}, ring: '1MiB' };
/** What `wasmgate run` and the unit start with. */
const SHIPPED: Runtime = { label: 'as shipped', flags: DAEMON_NODE_FLAGS, env: DAEMON_ENV };

function pipelineYaml(name: string, devices: Device[], steps: string, ring?: string): string {
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
${ring ? `  ring: { ingress: ${ring}, egress: ${ring} }\n` : ''}source:
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

async function gatewayDir(broker: string, pipelines: Record<string, string>, logLevel = 'warn'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-bench-'));
  await writeFile(join(dir, 'gateway.yaml'), `gateway:
  id: bench
  log: { level: ${logLevel}, format: json }
uplinks:
  cloud:
    mqtt: { url: "${broker}", qos: 0 }
pipelines:
${Object.keys(pipelines).map((n) => `  - ./${n}.yaml`).join('\n')}
`);
  for (const [name, text] of Object.entries(pipelines)) await writeFile(join(dir, `${name}.yaml`), text);
  return dir;
}

function runGateway(dir: string, runtime: Runtime = SHIPPED, stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  // The runtime is given here, as the unit does, so the daemon is this process's child (no relaunch).
  const env: NodeJS.ProcessEnv = { ...process.env, ...runtime.env, WASMGATE_REEXEC: '0' };
  for (const key of Object.keys(DAEMON_ENV)) if (!(key in runtime.env)) delete env[key];
  delete env.NODE_OPTIONS;
  return spawn(process.execPath, [...runtime.flags, CLI, 'run', '--config', join(dir, 'gateway.yaml')], { stdio: ['ignore', stdout, 'inherit'], env });
}

/** The `startMs` of the daemon's gateway.started line: when each phase of its start ended (start-marks.ts). */
function startPhases(child: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"gateway.started"')) resolve((JSON.parse(line) as { startMs: Record<string, number> }).startMs);
    });
  });
}

/** Resolves once the daemon says it wrote its start cache (a `config.cache` line with `written`). */
function cacheWritten(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"config.cache"') && line.includes('"written"')) resolve();
    });
  });
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
  // 1. Start: process start → first message, median of 5, per host (WG_BENCH_HOSTS), cold (a fresh
  //    directory: no start cache) and warm (the same directory again: the start cache of the run
  //    before, every input unchanged), all alternating, so they are compared within one run.
  const kinds = ['cold', 'warm'] as const;
  const boiler = () => gatewayDir(broker.url, { boiler: pipelineYaml('boiler', [{ name: 'plc', port: ports[0]!, points: 7, intervalMs: 1000 }], SCALE) }, 'info');
  const warmDirs = await Promise.all(HOSTS.map(() => boiler()));
  const starts = HOSTS.map(() => ({ cold: [] as number[], warm: [] as number[] }));
  const phases = HOSTS.map(() => ({ cold: {} as Record<string, number[]>, warm: {} as Record<string, number[]> }));
  for (let i = 0; i < 6; i++) for (const [h, host] of HOSTS.entries()) for (const kind of kinds) {
    const dir = kind === 'warm' ? warmDirs[h]! : await boiler();
    const first = new Promise<number>((resolve) => { onMessage = () => resolve(performance.now()); });
    const t0 = performance.now();
    const child = runGateway(dir, withHost(SHIPPED, host), 'pipe');
    const started = startPhases(child);
    const written = kind === 'warm' && i === 0 ? cacheWritten(child) : undefined;
    const ms = (await first) - t0;
    const marks = await started;
    // The first warm start only writes the cache (its own start is a cold one): not counted.
    if (kind === 'cold' || i > 0) {
      starts[h]![kind].push(ms);
      for (const [phase, at] of Object.entries(marks)) (phases[h]![kind][phase] ??= []).push(at);
    }
    await written;
    onMessage = () => {};
    await stop(child);
    if (kind === 'cold') await rm(dir, { recursive: true });
  }
  for (const dir of warmDirs) await rm(dir, { recursive: true });
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [h, host] of HOSTS.entries()) {
    for (const kind of kinds) {
      const n = starts[h]![kind].length;
      emitResult(`process start → first MQTT message, ${kind} (median of ${n}${hostTag(host)})`, median(starts[h]![kind]), 'ms', kind === 'warm' ? '<= 200 ms' : undefined);
      // Where it went, as the daemon says (gateway.started's startMs, ms since its process started).
      for (const [phase, ms] of Object.entries(phases[h]![kind])) emitResult(`start, ${kind}: phase "${phase}" ended, ms after the process started (median of ${ms.length}${hostTag(host)})`, median(ms), 'ms');
    }
    emitResult(`process start → first MQTT message, warm / cold${hostTag(host)}`, median(starts[h]!.warm) / median(starts[h]!.cold), 'x');
    if (h > 0) for (const kind of kinds) emitResult(`process start → first MQTT message, ${kind}, host ${host} / host ${HOSTS[0]}`, median(starts[h]![kind]) / median(starts[0]![kind]), 'x');
  }
  // `--start-only`: the start figures alone (the finally's cleanup, then out).
  if (process.argv.includes('--start-only')) {
    await subscriber.endAsync(true);
    await broker.dispose();
    fleet.kill('SIGTERM');
    process.exit(0);
  }

  // 2. Footprint: 2 pipelines × 5 plugins, 1,000 points polled every second; each lever alone against
  //    the baseline, then as shipped, each in a fresh daemon.
  const levers: Runtime[] = [
    BASELINE,
    { label: '--max-semi-space-size=1', flags: ['--max-semi-space-size=1'], env: {}, ring: '1MiB' },
    { label: '--max-old-space-size=64', flags: ['--max-old-space-size=64'], env: {}, ring: '1MiB' },
    { label: '--max-semi-space-size=1 --max-old-space-size=64', flags: ['--max-semi-space-size=1', '--max-old-space-size=64'], env: {}, ring: '1MiB' },
    { label: '--max-semi-space-size=1 --max-old-space-size=32', flags: ['--max-semi-space-size=1', '--max-old-space-size=32'], env: {}, ring: '1MiB' },
    { label: 'MALLOC_MMAP_THRESHOLD_=32768', flags: [], env: { MALLOC_MMAP_THRESHOLD_: '32768' }, ring: '1MiB' },
    { label: 'rings 256 KiB', flags: [], env: {}, ring: '256KiB' },
    ...HOSTS.map((host) => withHost(SHIPPED, host)),
  ];
  let baseline: Breakdown | undefined;
  const shippedByHost: Breakdown[] = [];
  for (const runtime of levers) {
    const dir = await gatewayDir(broker.url, {
      line1: pipelineYaml('line1', [{ name: 'plcA', port: ports[0]!, points: 500, intervalMs: 1000 }], ETL, runtime.ring),
      line2: pipelineYaml('line2', [{ name: 'plcB', port: ports[1]!, points: 500, intervalMs: 1000 }], ETL, runtime.ring),
    });
    let messages = 0;
    onMessage = () => { messages++; };
    const child = runGateway(dir, runtime);
    await new Promise((r) => setTimeout(r, 10_000));
    const b = await readBreakdown(child.pid!, join(dir, 'data', 'control.sock'));
    await stop(child);
    await rm(dir, { recursive: true });
    const MB = 1024 * 1024;
    baseline ??= b;
    const what = `${runtime.label}: 2 pipelines, 10 plugins, 1000 points, 1 s polls (${messages} bucket messages in 10 s)`;
    const shipped = runtime.flags === SHIPPED.flags;
    if (runtime === BASELINE || shipped) printBreakdown(runtime.label, b);
    emitResult(`RSS, ${what}`, b.rss / MB, 'MB', shipped ? '<= 72 MB' : undefined);
    emitResult(`RssAnon (private), ${runtime.label}`, b.rssAnon / MB, 'MB', shipped ? '<= 32 MB' : undefined);
    if (runtime !== BASELINE) {
      emitResult(`RSS saved against the baseline, ${runtime.label}`, (baseline.rss - b.rss) / MB, 'MB');
      emitResult(`RssAnon saved against the baseline, ${runtime.label}`, (baseline.rssAnon - b.rssAnon) / MB, 'MB');
    }
    if (shipped) emitResult(`peak RSS (VmHWM), ${runtime.label}`, b.peak / MB, 'MB');
    if (shipped) shippedByHost.push(b);
  }
  for (const [h, host] of HOSTS.entries()) {
    if (h === 0) continue;
    const [first, b] = [shippedByHost[0]!, shippedByHost[h]!];
    emitResult(`RSS as shipped, host ${host} / host ${HOSTS[0]}`, b.rss / first.rss, 'x');
    emitResult(`RssAnon as shipped, host ${host} / host ${HOSTS[0]}`, b.rssAnon / first.rssAnon, 'x');
    emitResult(`peak RSS as shipped, host ${host} / host ${HOSTS[0]}`, b.peak / first.peak, 'x');
  }

  // Levers in code: what each costs a process that loads it (a fresh process each, as shipped).
  for (const cost of await measureModuleCosts(SHIPPED.flags, SHIPPED.env)) emitResult(cost.name, cost.mb, 'MB');

  // 3. Throughput and latency, one MQTT message per point (QoS 0), 2 pipelines: first at a light load
  //    (1 device × 500 points every 100 ms = 5,000 points/s), where latency is the pipeline's own;
  //    then 4 devices × 500 points every 40 ms = 50,000 points/s offered. With Node's defaults and as
  //    shipped, alternating, so the flags' cost in throughput is read within one run.
  const loads = [
    { label: '5 k/s offered', devices: [[0], []], intervalMs: 100 },
    { label: '50 k/s offered', devices: [[0, 1], [2, 3]], intervalMs: 40 },
  ];
  for (const load of loads) {
    const delivered: number[] = [];
    for (const runtime of [BASELINE, SHIPPED]) {
      const [a, b] = load.devices.map((ids) => ids.map((i) => ({ name: `plc${i}`, port: ports[i]!, points: 500, intervalMs: load.intervalMs })));
      const dir = await gatewayDir(broker.url, {
        a: pipelineYaml('a', a!, SCALE, runtime.ring),
        ...(b!.length > 0 ? { b: pipelineYaml('b', b!, SCALE, runtime.ring) } : {}),
      });
      const latencies: number[] = [];
      let measuring = false;
      onMessage = (payload) => {
        if (!measuring) return;
        const ts = Number(/"ts":(\d+)/.exec(payload.toString())?.[1]);
        latencies.push(Date.now() - ts);
      };
      const child = runGateway(dir, runtime);
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
      const shipped = runtime === SHIPPED;
      const tag = shipped ? load.label : `${load.label}, ${runtime.label}`;
      delivered.push(latencies.length / seconds);
      emitResult(`Modbus TCP → MQTT, points/s delivered (${tag}, 1 message per point, QoS 0)`, latencies.length / seconds, 'points/s', heavy && shipped ? '>= 50000 points/s' : undefined);
      emitResult(`poll → subscriber latency p50 (${tag})`, at(0.5), 'ms');
      emitResult(`poll → subscriber latency p99 (${tag})`, at(0.99), 'ms', shipped ? '<= 5 ms' : undefined);
      emitResult(`gateway RSS (${tag})`, rss, 'MB');
    }
    emitResult(`points/s delivered as shipped / with Node's defaults (${load.label})`, delivered[1]! / delivered[0]!, 'x', '>= 0.95 x');
  }
} finally {
  await subscriber.endAsync(true);
  await broker.dispose();
  fleet.kill('SIGTERM');
}
