/**
 * A shortened soak: the daemon as shipped (`wasmgate run`, its memory flags from bin/daemon-runtime.js)
 * at 5,000 points/s for a few minutes (3 by default; WASMGATE_SOAK_MINUTES changes it; the issue's
 * soak is an hour), 2 pipelines × 250 points every 100 ms, one QoS 1 message per point through the
 * durable outbox to mosquitto (aedes when it is not installed). Prints RSS and RssAnon at the start
 * (after a 20 s warm-up), the middle and the end, the slope of each over the run (least squares over a
 * sample every 5 s), the breakdown per thread at the end, and what was delivered of what was offered.
 * Each minute it also reads the breakdown, so a rise is attributed: the main thread's V8 heap, the
 * workers' heaps, or native memory (malloc, SQLite's page cache), each with its own slope.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { startMosquitto, mosquittoPath } from '../test/support/mosquitto.js';
import { startAedes } from '../test/support/aedes.js';
import { emitResult, printMachine } from './machine.js';
import { printBreakdown, readBreakdown, type Breakdown } from './memory-breakdown.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'bin', 'wasmgate.js');
const MINUTES = Number(process.env.WASMGATE_SOAK_MINUTES ?? 3);
const WARMUP_MS = 20_000;
const SAMPLE_MS = 5_000;
const BREAKDOWN_EVERY = 12; // samples: once a minute
const POINTS = 250;
const INTERVAL_MS = 100;
const MB = 1024 * 1024;

function pipelineYaml(name: string, port: number): string {
  const points = Array.from({ length: POINTS }, (_, i) => `          - { name: ${name}.t${i}, function: 3, address: ${i}, type: int16, unit: degC, scale: 0.1 }`).join('\n');
  return `pipeline:
  name: ${name}
source:
  modbus_tcp:
    devices:
      - name: ${name}-plc
        host: 127.0.0.1
        port: ${port}
        interval: ${INTERVAL_MS}ms
        timeout: 1s
        points:
${points}
steps:
  - plugin: modbus
  - plugin: scale
    with: { points: {} }
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "soak/{pipeline}/{point}"
  qos: 1
`;
}

async function kernel(pid: number): Promise<{ rss: number; anon: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1]) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

/** Each part's share of RssAnon, minute by minute, and its slope: which one a rise is in. */
function printMinutes(minutes: Array<{ at: number; b: Breakdown }>): void {
  const mb = (bytes: number) => (bytes / MB).toFixed(1).padStart(7);
  const native = (b: Breakdown) => b.rssAnon - b.accounted;
  console.log('minute      RSS  RssAnon  main heap  worker heaps  native');
  for (const { at, b } of minutes) {
    console.log(`${at.toFixed(0).padStart(6)} ${mb(b.rss)} ${mb(b.rssAnon)} ${mb(b.mainHeap).padStart(10)} ${mb(b.workerHeaps).padStart(13)} ${mb(native(b))}`);
  }
  if (minutes.length < 3) return;
  const xs = minutes.map((m) => m.at);
  const per = (f: (b: Breakdown) => number) => slope(xs, minutes.map((m) => f(m.b) / MB)).toFixed(3);
  console.log(`slopes, MB/min: main heap ${per((b) => b.mainHeap)}, worker heaps ${per((b) => b.workerHeaps)}, native ${per(native)}`);
}

printMachine();
const fleet = spawn(process.execPath, [join(here, 'plc-fleet.js'), '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(fleet.stdout!, 'data')) as [Buffer];
const ports = JSON.parse(line.toString()) as number[];
const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
console.log(`broker: ${broker.kind}; ${MINUTES} min at ${(2 * POINTS * 1000) / INTERVAL_MS} points/s offered, QoS 1, one message per point`);
const subscriber = await connectAsync(broker.url, { reconnectPeriod: 0 });
let received = 0;
subscriber.on('message', () => { received++; });
await subscriber.subscribeAsync('soak/#', { qos: 0 });
const dir = await mkdtemp(join(tmpdir(), 'wasmgate-soak-'));
let child: ChildProcess | undefined;
try {
  await writeFile(join(dir, 'gateway.yaml'), `gateway:
  id: soak
  log: { level: warn, format: json }
uplinks:
  cloud:
    mqtt: { url: "${broker.url}", qos: 1 }
pipelines:
  - ./a.yaml
  - ./b.yaml
`);
  await writeFile(join(dir, 'a.yaml'), pipelineYaml('a', ports[0]!));
  await writeFile(join(dir, 'b.yaml'), pipelineYaml('b', ports[1]!));
  // As the unit starts it: the flags on the command line, so the process measured is the daemon.
  const { DAEMON_NODE_FLAGS, DAEMON_ENV } = (await import(join(here, '..', '..', 'bin', 'daemon-runtime.js'))) as { DAEMON_NODE_FLAGS: string[]; DAEMON_ENV: Record<string, string> };
  child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', join(dir, 'gateway.yaml')], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...DAEMON_ENV, WASMGATE_REEXEC: '0' },
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const t0 = performance.now();
  const received0 = received;
  const times: number[] = [];
  const rss: number[] = [];
  const anon: number[] = [];
  const minutes: Array<{ at: number; b: Breakdown }> = [];
  const socket = join(dir, 'data', 'control.sock');
  while (performance.now() - t0 < MINUTES * 60_000) {
    const k = await kernel(child.pid!);
    const at = (performance.now() - t0) / 60_000;
    times.push(at);
    rss.push(k.rss / MB);
    anon.push(k.anon / MB);
    if ((times.length - 1) % BREAKDOWN_EVERY === 0) minutes.push({ at, b: await readBreakdown(child.pid!, socket) });
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const seconds = (performance.now() - t0) / 1000;
  const delivered = (received - received0) / seconds;
  const mid = Math.floor(times.length / 2);
  printBreakdown('at the end of the soak', await readBreakdown(child.pid!, socket));
  printMinutes(minutes);
  emitResult(`soak ${MINUTES} min at 5 k points/s (QoS 1): RSS at the start`, rss[0]!, 'MB');
  emitResult('soak: RSS in the middle', rss[mid]!, 'MB');
  emitResult('soak: RSS at the end', rss.at(-1)!, 'MB');
  emitResult('soak: RSS slope', slope(times, rss), 'MB/min', 'flat');
  emitResult('soak: RssAnon at the start', anon[0]!, 'MB');
  emitResult('soak: RssAnon at the end', anon.at(-1)!, 'MB');
  emitResult('soak: RssAnon slope', slope(times, anon), 'MB/min', 'flat');
  emitResult('soak: points/s delivered at the subscriber', delivered, 'points/s', '5000 points/s');
} finally {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
  await subscriber.endAsync(true);
  await broker.dispose();
  fleet.kill('SIGTERM');
}
