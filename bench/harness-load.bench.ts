/**
 * The peer harness's load (../shared/peers, issue 13), reproducible without Node-RED: 10 Modbus TCP
 * devices × 10 holding registers, one pipeline, modbus → json, one QoS 1 message per register, to
 * mosquitto (unthrottled, as the harness runs it) and a QoS 1 subscriber here. Load points 1 k, 5 k
 * and 10 k points/s (poll intervals 100, 20 and 10 ms).
 *
 * Latency is measured as the harness does it, not from the gateway's own timestamp: the simulated
 * registers (bench/clock-plcs.ts) change every millisecond as a known function of the shared
 * realtime clock, so each value says the instant it became current, and the latency is its arrival
 * here minus that instant (it includes the 0–1 ms the value had aged when it was read). Every
 * message is decoded; a value that is not a register's (not a whole number 0..65535), or that would
 * be older than a minute (a decode error maps to a random instant), is counted as wrong.
 *
 * Figures per load point: delivered points/s, p50 and p99 latency, the gateway's CPU (all threads,
 * /proc/PID/stat) per delivered point and in % of a core, its RSS, and polls answered against the
 * polls the intervals ask for (missed polls). Every process shares the machine's cores: the gateway
 * is not pinned here (the harness pins it; see its README).
 *
 * WG_BENCH_SHAPE=batch: the batch shape instead, one message per poll (json `shape: batch`, a
 * JSON array of the poll's samples), WG_BENCH_REGISTERS registers per device (default 10; 125 is a
 * whole Modbus read), WG_BENCH_DEVICES devices (default 10). Every value of every array is decoded
 * and checked as above; the figures are per point.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { startMosquitto } from '../test/support/mosquitto.js';
import { daemonCommand } from '../test/support/gateway-process.js';
import { emitResult, printMachine } from './machine.js';
import { registerValue } from './clock-plcs.js';
import { printBreakdown, readBreakdown } from './memory-breakdown.js';

const here = dirname(fileURLToPath(import.meta.url));
const SHAPE = process.env.WG_BENCH_SHAPE === 'batch' ? 'batch' : 'sample';
const DEVICES = Number(process.env.WG_BENCH_DEVICES ?? 10);
const REGISTERS = Number(process.env.WG_BENCH_REGISTERS ?? 10);
const WARMUP_MS = 3_000;
const WINDOW_MS = Number(process.env.WG_BENCH_WINDOW_MS ?? 10_000);
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux
const now = () => performance.timeOrigin + performance.now();

function pipelineYaml(ports: readonly number[], intervalMs: number): string {
  const devices = ports.map((port, d) => `      - name: dev${d}
        host: 127.0.0.1
        port: ${port}
        interval: ${intervalMs}ms
        timeout: 1s
        points:
${Array.from({ length: REGISTERS }, (_, r) => `          - { name: dev${d}.r${r}, function: 3, address: ${r}, type: uint16 }`).join('\n')}`).join('\n');
  return `pipeline: { name: harness }
source:
  modbus_tcp:
    devices:
${devices}
steps:
  - plugin: modbus
  - plugin: json
    with: { shape: ${SHAPE}, timestamp: epoch_ms, include: { device: true } }
publish: { uplink: bench, topic: "${SHAPE === 'batch' ? 'h/batch' : 'h/{device}/{point}'}", qos: 1 }
`;
}

/** Mean Modbus RTT and mean making → delivery, from the daemon's own status (its histograms). */
interface StageFigures { rttMs: number; ingressWaitMs: number; chainMs: number; egressWaitMs: number; deliveryMs: number; unwrittenShare: number }

async function stageFigures(gatewayFile: string): Promise<StageFigures | undefined> {
  const run = spawnSync(process.execPath, [join(here, '..', '..', 'bin', 'wasmgate.js'), 'status', '--config', gatewayFile, '--json'], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  const status = JSON.parse(run.stdout) as {
    pipelines: Array<{ devices: Array<{ rtt?: { sumMs: number; count: number } }>; stages: Record<'ingressWait' | 'chain' | 'egressWait', { sumMs: number; count: number }> }>;
    uplinks: Array<{ outbox?: { deliveryLatency: { sumMs: number; count: number }; delivered: number; unwritten: number } }>;
  };
  const rtts = status.pipelines.flatMap((p) => p.devices.map((d) => d.rtt)).filter((r) => r !== undefined);
  const delivery = status.uplinks[0]?.outbox?.deliveryLatency;
  const mean = (h: { sumMs: number; count: number }[]) => h.reduce((a, x) => a + x.sumMs, 0) / Math.max(1, h.reduce((a, x) => a + x.count, 0));
  const outbox = status.uplinks[0]?.outbox;
  const stage = status.pipelines[0]!.stages;
  return { rttMs: mean(rtts), ingressWaitMs: mean([stage.ingressWait]), chainMs: mean([stage.chain]), egressWaitMs: mean([stage.egressWait]), deliveryMs: delivery ? mean([delivery]) : NaN, unwrittenShare: outbox ? outbox.unwritten / Math.max(1, outbox.delivered) : NaN };
}

async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S; // utime, stime
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

printMachine();
const t0 = now();
const plcs = spawn(process.execPath, [join(here, 'clock-plcs.js'), String(DEVICES), String(t0)], { stdio: ['pipe', 'pipe', 'inherit'] });
const plcLines = createInterface({ input: plcs.stdout! });
const nextLine = () => new Promise<string>((resolve) => plcLines.once('line', resolve));
const ports = JSON.parse(await nextLine()) as number[];
const answered = async (): Promise<number> => {
  const line = nextLine();
  plcs.stdin!.write('count\n');
  return (JSON.parse(await line) as { requests: number }).requests;
};
const broker = await startMosquitto({ quiet: true, unthrottled: true });
const subscriber = await connectAsync(broker.url, { reconnectPeriod: 0 });
let measuring = false;
let latencies: number[] = [];
let wrong = 0;
let messages = 0;
/** One point's value, as it arrived: its latency counted, or counted as wrong. */
function check(arrival: number, device: string, point: string, value: number): void {
  const d = Number(device.slice(3));
  const r = Number(point.split('.r')[1]);
  // The tick k with registerValue(k, r, d) === value, nearest at or before the arrival.
  const latest = Math.floor(arrival - t0);
  const k = latest - ((((latest - value + registerValue(0, r, d)) % 65536) + 65536) % 65536);
  const latency = arrival - (t0 + k);
  if (!Number.isInteger(value) || value < 0 || value > 65535 || registerValue(k, r, d) !== value || latency > 60_000) {
    wrong++;
    return;
  }
  latencies.push(latency);
}
subscriber.on('message', (topic, payload) => {
  if (!measuring) return;
  const arrival = now();
  messages++;
  if (SHAPE === 'batch') {
    const samples = JSON.parse(payload.toString()) as Array<{ device: string; point: string; value: number }>;
    for (const s of samples) check(arrival, s.device, s.point, s.value);
    return;
  }
  const [, device, point] = topic.split('/');
  check(arrival, device!, point!, (JSON.parse(payload.toString()) as { value: number }).value);
});
await subscriber.subscribeAsync('h/#', { qos: 1 });
console.log(`broker: mosquitto (unthrottled), ${DEVICES} clock PLCs on ${ports[0]}..${ports.at(-1)}`);

try {
  // WG_BENCH_COMMIT_DELAYS="50ms 0s": each load point with each outbox_commit_delay, to compare write-behind
  // (the default) with a commit every turn in one run.
  const commitDelays = (process.env.WG_BENCH_COMMIT_DELAYS ?? '50ms').split(' ');
  // WG_BENCH_HOSTS="dist bundle": each load point with each build of the host (WASMGATE_HOST,
  // bin/host-entry.js), alternating, to compare the bundle with tsc's output in one run.
  const hosts = process.env.WG_BENCH_HOSTS?.split(' ').filter(Boolean) ?? [undefined];
  for (const intervalMs of (process.env.WG_BENCH_INTERVALS_MS ?? '100 20 10').split(" ").map(Number)) for (const commitDelay of commitDelays) for (const host of hosts) {
    const offered = (DEVICES * REGISTERS * 1000) / intervalMs;
    const dir = await mkdtemp(join(tmpdir(), 'wasmgate-harness-'));
    await writeFile(join(dir, 'gateway.yaml'), `gateway: { id: bench-harness, data_dir: ./data, outbox_commit_delay: ${commitDelay}, log: { level: warn, format: json } }
uplinks:
  bench:
    mqtt: { url: ${broker.url}, qos: 1 }
pipelines: [ ./harness.yaml ]
`);
    await writeFile(join(dir, 'harness.yaml'), pipelineYaml(ports, intervalMs));
    // Started as the unit starts it (its flags on the command line), so the pid measured is the daemon's own.
    // WG_BENCH_NODE_DEFAULTS=1: Node's own defaults instead (no memory flags), to compare in one run.
    const daemon = process.env.WG_BENCH_NODE_DEFAULTS === '1'
      ? { argv: [process.execPath, join(here, '..', '..', 'bin', 'wasmgate.js'), 'run', '--config', join(dir, 'gateway.yaml')], env: { ...process.env, WASMGATE_REEXEC: '0' } }
      : daemonCommand(join(dir, 'gateway.yaml'));
    // WG_BENCH_DAEMON_NODE_ARGS: more flags for the daemon's node (e.g. --cpu-prof --cpu-prof-dir=DIR, which NODE_OPTIONS refuses).
    const extra = process.env.WG_BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    // After the daemon's own flags, so that a flag given again (--max-semi-space-size=4) wins.
    const script = daemon.argv.findIndex((a) => a.endsWith('wasmgate.js'));
    const argv = [...daemon.argv.slice(1, script), ...extra, ...daemon.argv.slice(script)];
    const env = host === undefined ? daemon.env : { ...daemon.env, WASMGATE_HOST: host };
    const child: ChildProcess = spawn(daemon.argv[0]!, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    latencies = [];
    wrong = 0;
    messages = 0;
    const [cpu0, polls0] = [await cpuSeconds(child.pid!), await answered()];
    measuring = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    const [cpu1, polls1, rss] = [await cpuSeconds(child.pid!), await answered(), await rssMb(child.pid!)];
    const stages = await stageFigures(join(dir, 'gateway.yaml'));
    const memory = await readBreakdown(child.pid!, join(dir, 'data', 'control.sock')).catch(() => undefined);
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const delivered = latencies.length / seconds;
    const commit = (commitDelays.length > 1 ? `, outbox_commit_delay ${commitDelay}` : '') + (hosts.length > 1 ? `, host ${host}` : '');
    const shape = SHAPE === 'batch' ? `1 message per poll (${(latencies.length / Math.max(1, messages)).toFixed(0)} points)` : '1 message per point';
    const label = `${offered / 1000} k points/s offered, ${DEVICES} devices × ${REGISTERS} registers, QoS 1, ${shape}${commit}`;
    emitResult(`points/s delivered (${label})`, delivered, 'points/s');
    emitResult(`read → subscriber latency p50 (${offered / 1000} k/s${commit})`, at(0.5), 'ms', '<= 1 ms');
    emitResult(`read → subscriber latency p99 (${offered / 1000} k/s${commit})`, at(0.99), 'ms', '<= 5 ms');
    const perPointTarget = SHAPE === 'batch' ? '<= 0.5 µs' : offered === 10_000 ? '<= 5 µs' : undefined;
    emitResult(`gateway CPU per delivered point (${offered / 1000} k/s${commit}, all threads${SHAPE === 'batch' ? ', batch shape' : ''})`, ((cpu1 - cpu0) * 1e6) / Math.max(1, latencies.length), 'µs', perPointTarget);
    emitResult(`gateway CPU (${offered / 1000} k/s${commit})`, ((cpu1 - cpu0) / seconds) * 100, '% of a core');
    emitResult(`gateway RSS (${offered / 1000} k/s${commit})`, rss, 'MB');
    emitResult(`polls answered / polls asked (${offered / 1000} k/s${commit})`, (polls1 - polls0) / ((DEVICES * seconds * 1000) / intervalMs), 'x', '1');
    if (stages) {
      // The stages the daemon times itself (its own histograms, wasmgate status), in the order a value
      // passes them: the Modbus round trip, the wait in the ingress ring (the worker's wake-up
      // included), the chain's call, the wait in the egress ring (the main thread's wake-up included),
      // and from a message's hand-over to the outbox to the broker's PUBACK. Means per batch.
      emitResult(`stage: Modbus round trip, mean (${offered / 1000} k/s${commit})`, stages.rttMs, 'ms');
      emitResult(`stage: ingress ring wait, mean (${offered / 1000} k/s${commit})`, stages.ingressWaitMs, 'ms');
      emitResult(`stage: chain call, mean (${offered / 1000} k/s${commit})`, stages.chainMs, 'ms');
      emitResult(`stage: egress ring wait, mean (${offered / 1000} k/s${commit})`, stages.egressWaitMs, 'ms');
      emitResult(`stage: outbox hand-over → broker PUBACK, mean (${offered / 1000} k/s${commit})`, stages.deliveryMs, 'ms');
      emitResult(`outbox: share of delivered messages never written to disk (${offered / 1000} k/s${commit})`, stages.unwrittenShare, 'x');
    }
    if (memory) printBreakdown(`${offered / 1000} k/s${commit}`, memory);
    if (wrong > 0) emitResult(`values that do not decode (${offered / 1000} k/s${commit})`, wrong, 'messages', '0');
  }
} finally {
  await subscriber.endAsync(true);
  await broker.dispose();
  plcs.kill('SIGTERM');
}
