/**
 * Hot swap figures (targets in the brief: swap pause <= 1 ms, no sample lost or doubled at 10 k
 * samples/s): a pipeline worker running probe-decoder → pass-through → json, fed 10 k frames/s (one
 * sample each) into its ingress ring from this thread, in batches of 10 frames every millisecond.
 *
 * - swap pause: the longest gap between two messages leaving the egress ring across a swap of the
 *   encoder (json, a second module version), next to the longest gap in a window of the same length
 *   just before it (the baseline of this run on this machine);
 * - install-to-live: from PipelineRunner.swap() to its answer (canary in its own worker, instantiate
 *   and configure in the pipeline's worker, handoff);
 * - canary cost: how long the canary run took within it (its worker started, the new version
 *   instantiated, configured and run on copies of the step's recent batches; the live pipeline's
 *   batches go on meanwhile), and install-to-live and the swap pause again, as medians of SWAPS swaps
 *   of the encoder back and forth;
 * - rollback: from the crash-loop decision to the previous version live again (the runner's
 *   rollbackMs), after a swap to trap-after-calls.wat;
 * - RSS: the largest resident set sampled every 2 ms during the swap, against the one before it.
 * Losses and duplicates are counted by the frames' sequence numbers, which the json messages carry.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v8Engine, type CompiledPlugin } from '../src/host/engine/engine.js';
import { frameRecordPayloadLength, writeFramePayload } from '../src/host/engine/frame-record.js';
import { buildPlugin } from '../src/host/plugin-build/build.js';
import { PipelineRunner } from '../src/host/pipeline/pipeline-runner.js';
import { REPO_ROOT, compileBuiltPlugin, watBytes } from '../test/support/plugins.js';
import { writePluginVersion } from '../test/support/plugin-versions.js';
import { manifestDefaults } from '../test/support/manifest-defaults.js';
import { emitResult, printMachine } from './machine.js';

printMachine();
await buildPlugin(join(REPO_ROOT, 'test/fixtures/plugins', 'probe-decoder'));
const decoderFile = join(REPO_ROOT, 'test/fixtures/plugins/probe-decoder/build/probe-decoder.wasm');
const decoder = v8Engine.compile(readFileSync(decoderFile), 'probe-decoder', decoderFile);
const wat = (name: string, version: string) => ({ plugin: v8Engine.compile(watBytes(name), 'filter', `${name}.wat`), kind: 'transform' as const, with: {}, version });
const json1 = compileBuiltPlugin('json');
const dir = await mkdtemp(join(tmpdir(), 'wasmgate-swap-bench-'));
const json2Path = await writePluginVersion(dir, 'json', '0.2.0');
const json2: CompiledPlugin = v8Engine.compile(readFileSync(json2Path), 'json', json2Path);
const JSON_WITH = (await manifestDefaults('json')).withDefaults({});

/** Message arrival times (ms, monotonic) and the seq each message carries. */
const arrivals: number[] = [];
const seqs: number[] = [];
let rollbackMs: number | undefined;
const runner = new PipelineRunner({
  name: 'bench',
  steps: [{ plugin: decoder, kind: 'decoder', with: {} }, wat('pass-through', '0.1.0'), { plugin: json1, kind: 'encoder', with: JSON_WITH, version: '0.1.0' }],
  context: { pipeline: 'bench', devices: [], points: Array.from({ length: 256 }, (_, id) => ({ id, name: `p${id}`, unit: '' })) },
  ingressBytes: 1 << 20,
  egressBytes: 1 << 20,
  maxBatchRecords: 256,
  batchDeadlineMs: 1000,
  tickMs: 1e9,
  crashLoop: { maxTraps: 3, windowMs: 30_000 },
  onMessage: (_point, payload) => {
    arrivals.push(performance.now());
    seqs.push((JSON.parse(Buffer.from(payload).toString()) as { value: number }).value);
  },
  logger: { log: (_level, _message, context) => { if (context.event === 'plugin.rollback') rollbackMs = context.rollbackMs as number; } },
});
await runner.start();

// The feeder: 10 frames a millisecond, numbered; each sample's value is its frame's number mod 256,
// and the frame number itself rides in the point (request) as number / 256, so json carries both.
let next = 0;
const RATE_PER_MS = 10;
const started = performance.now();
const feeder = setInterval(() => {
  const due = Math.floor((performance.now() - started) * RATE_PER_MS);
  for (; next < due; next++) {
    const at = runner.ingress.reserve(frameRecordPayloadLength(1, 1));
    if (at < 0) break;
    writeFramePayload(runner.ingress.bytes, runner.ingress.view, at, { device: 0, request: Math.floor(next / 256) % 256, status: 0, seq: next & 0xffff, ts: next }, new Uint8Array([1]), new Uint8Array([next % 256]));
  }
  runner.ingress.commit();
}, 1);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const longestGap = (from: number, to: number) => {
  let worst = 0;
  for (let i = 1; i < arrivals.length; i++) if (arrivals[i]! >= from && arrivals[i - 1]! <= to) worst = Math.max(worst, arrivals[i]! - arrivals[i - 1]!);
  return worst;
};
const rss = () => process.memoryUsage().rss;

await sleep(2000); // warm up: the chain tiered up, the rates steady
const rssBefore = rss();
const baselineFrom = performance.now();
await sleep(300);
const baseline = longestGap(baselineFrom, performance.now());
let rssPeak = rssBefore;
const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rss()); }, 2);
const swapFrom = performance.now();
await runner.swap([{ index: 2, step: { plugin: json2, kind: 'encoder', with: JSON_WITH, version: '0.2.0' } }]);
const swapTo = performance.now();
clearInterval(sampler);
await sleep(300);
const pause = longestGap(swapFrom, swapTo + 50);

const workerPause = runner.lastSwapPauseMs ?? NaN;
const firstCanary = runner.lastCanaryMs ?? NaN;

// More swaps of the encoder, back and forth, for the medians of the canary's cost and of the pause.
const SWAPS = 7;
const canaries: number[] = [firstCanary];
const workerPauses: number[] = [workerPause];
const pauses: number[] = [pause];
const installs: number[] = [swapTo - swapFrom];
for (let i = 1; i < SWAPS; i++) {
  const version = i % 2 === 1 ? { plugin: json1, v: '0.1.0' } : { plugin: json2, v: '0.2.0' };
  const from = performance.now();
  await runner.swap([{ index: 2, step: { plugin: version.plugin, kind: 'encoder', with: JSON_WITH, version: version.v } }]);
  const to = performance.now();
  await sleep(150);
  canaries.push(runner.lastCanaryMs ?? NaN);
  workerPauses.push(runner.lastSwapPauseMs ?? NaN);
  installs.push(to - from);
  pauses.push(longestGap(from, to + 50));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const beforeRollback = seqs.length;
// Rollback: a transform that passes the canary and traps from its sixth call on.
await runner.swap([{ index: 1, step: wat('trap-after-calls', '0.2.0') }]);
const deadline = performance.now() + 10_000;
while (rollbackMs === undefined && performance.now() < deadline) await sleep(10);
await sleep(300);
clearInterval(feeder);
await sleep(300);
await runner.stop();
await rm(dir, { recursive: true, force: true });

const rate = (next / (performance.now() - started)) * 1000;
// The json value is the frame number mod 256: a lost or doubled message shows as a break in the count.
const breaksIn = (from: number, to: number) => {
  let n = 0;
  for (let i = Math.max(1, from); i < to; i++) if (seqs[i] !== (seqs[i - 1]! + 1) % 256) n++;
  return n;
};
emitResult('offered load', rate, 'samples/s', '10 k samples/s');
emitResult('swap pause: longest gap between two messages across an encoder swap', pause, 'ms', '<= 1 ms');
emitResult('longest gap between two messages, 300 ms before the swap (baseline)', baseline, 'ms');
emitResult('swap pause inside the worker (batches held: instantiate, configure, handoff)', workerPause, 'ms', '<= 1 ms');
emitResult('install-to-live (canary, configure in the worker, handoff)', swapTo - swapFrom, 'ms');
emitResult(`install-to-live, median of ${SWAPS} encoder swaps`, median(installs), 'ms');
emitResult(`canary run (own worker, instantiate, configure, recent batches), median of ${SWAPS}`, median(canaries), 'ms');
emitResult(`swap pause across a swap, median of ${SWAPS} (worst ${Math.max(...pauses).toFixed(2)} ms)`, median(pauses), 'ms', '<= 1 ms');
emitResult(`swap pause inside the worker, median of ${SWAPS}`, median(workerPauses), 'ms', '<= 1 ms');
emitResult('rollback after a crash loop (decision to previous version live)', rollbackMs ?? NaN, 'ms');
emitResult('RSS before the swap', rssBefore / 2 ** 20, 'MiB');
emitResult('RSS peak during the swap (both versions alive, canary worker)', rssPeak / 2 ** 20, 'MiB');
// This process also holds the AssemblyScript compiler (the probe decoder is built above): the rise is the figure.
emitResult('RSS added during the swap (peak against before)', (rssPeak - rssBefore) / 2 ** 20, 'MiB');
emitResult(`messages lost or doubled across the ${SWAPS} encoder swaps (breaks in the sequence)`, breaksIn(1, beforeRollback), 'count', '0');
emitResult('breaks across the crash loop and rollback (the trapped batches, dropped by design)', breaksIn(beforeRollback, seqs.length), 'count');
