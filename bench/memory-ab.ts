/**
 * The reference load's memory (gateway.bench.ts: 2 pipelines × modbus → si → outlier → resample → json,
 * 500 points each, 1 s polls), alternating between checkouts in one run, so a change is read against
 * its baseline under the same load on a shared machine:
 *   node dist/bench/memory-ab.js <checkout> <checkout> ... [rounds]
 * A checkout may carry extra Node flags and environment: `dir::--flag,--other::NAME=value,OTHER=v`.
 * Each daemon starts as shipped (bin/daemon-runtime.js of that checkout), runs SETTLE_MS (10 s, as the
 * gateway bench), and is read by memory-breakdown.ts; the last round prints each breakdown. The PLCs
 * and the broker are this checkout's. Not part of `npm run bench` (it needs the checkouts named).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMosquitto, mosquittoPath } from '../test/support/mosquitto.js';
import { startAedes } from '../test/support/aedes.js';
import { printBreakdown, readBreakdown, type Breakdown } from './memory-breakdown.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const variants = args.filter((a) => !/^\d+$/.test(a));
if (variants.length === 0) {
  console.error('usage: node dist/bench/memory-ab.js <checkout>[::flags[::env]] ... [rounds]');
  process.exit(2);
}
const settleMs = Number(process.env.SETTLE_MS ?? 10_000);
const MB = 1024 * 1024;

const ETL = `  - plugin: modbus
  - plugin: si
  - plugin: outlier
  - plugin: resample
    with: { bucket: 1000, grace: 0 }
  - plugin: json
    with: { shape: bucket }`;

function pipelineYaml(name: string, device: string, port: number): string {
  const points = Array.from({ length: 500 }, (_, i) => `          - { name: ${device}.t${i}, function: 3, address: ${i}, type: int16, unit: degC, scale: 0.1 }`);
  return `pipeline:
  name: ${name}
  batch: { max_records: 256, deadline: 1s }
source:
  modbus_tcp:
    devices:
      - name: ${device}
        host: 127.0.0.1
        port: ${port}
        interval: 1000ms
        timeout: 1s
        points:
${points.join('\n')}
steps:
${ETL}
publish:
  uplink: cloud
  topic: "bench/{pipeline}/{point}"
  qos: 0
`;
}

const fleet = spawn(process.execPath, [join(here, 'plc-fleet.js'), '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(fleet.stdout!, 'data')) as [Buffer];
const ports = JSON.parse(line.toString()) as number[];
const broker = mosquittoPath() ? await startMosquitto() : await startAedes();

async function measure(spec: string): Promise<Breakdown> {
  const [checkout = '', flags = '', envs = ''] = spec.split('::');
  const runtime = (await import(join(checkout, 'bin', 'daemon-runtime.js'))) as { DAEMON_NODE_FLAGS: string[]; DAEMON_ENV: Record<string, string> };
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-memory-ab-'));
  await writeFile(join(dir, 'gateway.yaml'), `gateway:
  id: bench
  log: { level: warn, format: json }
uplinks:
  cloud:
    mqtt: { url: "${broker.url}", qos: 0 }
pipelines:
  - ./line1.yaml
  - ./line2.yaml
`);
  await writeFile(join(dir, 'line1.yaml'), pipelineYaml('line1', 'plcA', ports[0]!));
  await writeFile(join(dir, 'line2.yaml'), pipelineYaml('line2', 'plcB', ports[1]!));
  const extraEnv = Object.fromEntries(envs.split(',').filter(Boolean).map((e) => e.split('=') as [string, string]));
  const env: NodeJS.ProcessEnv = { ...process.env, ...runtime.DAEMON_ENV, ...extraEnv, WASMGATE_REEXEC: '0' };
  delete env.NODE_OPTIONS;
  const argv = [...runtime.DAEMON_NODE_FLAGS, ...flags.split(',').filter(Boolean), join(checkout, 'bin', 'wasmgate.js'), 'run', '--config', join(dir, 'gateway.yaml')];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
  try {
    await new Promise((r) => setTimeout(r, settleMs));
    return await readBreakdown(child.pid!, join(dir, 'data', 'control.sock'));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dir, { recursive: true });
  }
}

const results = new Map<string, Breakdown[]>(variants.map((v) => [v, []]));
try {
  for (let round = 1; round <= rounds; round++) {
    for (const spec of variants) {
      const b = await measure(spec);
      results.get(spec)!.push(b);
      const load = loadavg().map((x) => x.toFixed(2)).join(' ');
      console.log(`round ${round}, ${spec} (load ${load}): RSS ${(b.rss / MB).toFixed(1)} MB, RssAnon ${(b.rssAnon / MB).toFixed(1)} MB, peak ${(b.peak / MB).toFixed(1)} MB`);
      if (round === rounds) printBreakdown(spec, b);
    }
  }
  for (const [spec, list] of results) {
    const sorted = (f: (b: Breakdown) => number) => list.map(f).sort((x, y) => x - y).map((x) => (x / MB).toFixed(1)).join(' ');
    console.log(`${spec}: RSS ${sorted((b) => b.rss)} MB; RssAnon ${sorted((b) => b.rssAnon)} MB (sorted, ${list.length} rounds)`);
  }
} finally {
  await broker.dispose();
  fleet.kill('SIGTERM');
}
