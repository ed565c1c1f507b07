/**
 * A stateful swap through the real pipeline worker, rings and built plugins: probe-decoder (one sample
 * per frame: point 0, the frame's timestamp, the response's first byte) → resample (1 s buckets, no
 * grace) → json. Frames are written into the ingress ring by hand with timestamps 100 ms apart, so
 * every bucket holds ten samples and what it emits can be worked out by hand. No device: what is under
 * test is the state handed from one resample to the next mid-bucket, not the polling (the daemon
 * tests in swap-under-load.test.ts swap with a real PLC and broker).
 */
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v8Engine, type CompiledPlugin } from '../../src/host/engine/engine.js';
import { frameRecordPayloadLength, writeFramePayload } from '../../src/host/engine/frame-record.js';
import { buildPlugin } from '../../src/host/plugin-build/build.js';
import { PipelineRunner } from '../../src/host/pipeline/pipeline-runner.js';
import type { ChainStep } from '../../src/host/pipeline/chain.js';
import { REPO_ROOT, compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';
import { writePluginVersion } from '../support/plugin-versions.js';
import { waitFor } from '../support/wait.js';

let decoder: CompiledPlugin;
let resampleV1: CompiledPlugin;
let resampleV2: CompiledPlugin;
let encoder: CompiledPlugin;
const resample = await manifestDefaults('resample');
const json = await manifestDefaults('json');

/** 1 s buckets stamped at their start, closed by the first sample of a later bucket. */
const BUCKETS = resample.withDefaults({ bucket: 1000, grace: 0, aggregates: ['mean', 'count', 'first', 'last'] });
/** Sample i: taken at T0 + 100·i ms, value (7·i) mod 256. */
const T0 = 1_700_000_000_000;
const valueOf = (i: number) => (7 * i) % 256;

before(async () => {
  await buildPlugin(join(REPO_ROOT, 'test/fixtures/plugins', 'probe-decoder'));
  const file = join(REPO_ROOT, 'test/fixtures/plugins/probe-decoder/build/probe-decoder.wasm');
  decoder = v8Engine.compile(readFileSync(file), 'probe-decoder', file);
  resampleV1 = compileBuiltPlugin('resample');
  encoder = compileBuiltPlugin('json');
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-swap-state-'));
  const path = await writePluginVersion(dir, 'resample', '0.2.0');
  resampleV2 = v8Engine.compile(readFileSync(path), 'resample', path, 1.3);
  await rm(dir, { recursive: true, force: true });
});

function runner(logs: Array<{ message: string; context: Record<string, unknown> }> = []) {
  const messages: string[] = [];
  const steps: ChainStep[] = [
    { plugin: decoder, kind: 'decoder', with: {} },
    { plugin: resampleV1, kind: 'transform', with: BUCKETS, version: '0.1.0' },
    { plugin: encoder, kind: 'encoder', with: json.withDefaults({}) },
  ];
  const pipeline = new PipelineRunner({
    name: 'state',
    steps,
    context: { pipeline: 'state', devices: [], points: [{ id: 0, name: 'temp', unit: 'degC' }] },
    ingressBytes: 1 << 16,
    egressBytes: 1 << 16,
    maxBatchRecords: 4,
    batchDeadlineMs: 1000,
    // No tick during the run: buckets close by data time alone, the same in every run.
    tickMs: 1e9,
    onMessage: (_point, payload) => messages.push(Buffer.from(payload).toString()),
    logger: { log: (_level, message, context) => logs.push({ message, context }) },
  });
  return { pipeline, messages };
}

function write(pipeline: PipelineRunner, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const at = pipeline.ingress.reserve(frameRecordPayloadLength(1, 1));
    assert.ok(at >= 0);
    writeFramePayload(pipeline.ingress.bytes, pipeline.ingress.view, at, { device: 0, request: 0, status: 0, seq: i, ts: T0 + 100 * i }, new Uint8Array([1]), new Uint8Array([valueOf(i)]));
  }
  pipeline.ingress.commit();
}

/** The mean, count, first and last of bucket k (samples 10k .. 10k+9), by hand. */
function bucketByHand(k: number, from = 10 * k, to = 10 * k + 10): Record<string, number> {
  const values = Array.from({ length: to - from }, (_, j) => valueOf(from + j));
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, count: values.length, first: values[0]!, last: values.at(-1)! };
}

/** The aggregates of the `nth` bucket stamped `ts` (json's sample shape: one message per aggregate, keyed by it). */
function aggregatesOf(messages: string[], ts: number, nth = 0): Record<string, number> {
  const out: Record<string, number>[] = [];
  for (const m of messages.map((x) => JSON.parse(x) as Record<string, number>)) {
    if (m.ts !== ts) continue;
    const name = ['mean', 'count', 'first', 'last'].find((n) => n in m)!;
    if (out.length === 0 || name in out.at(-1)!) out.push({});
    out.at(-1)![name] = m[name]!;
  }
  return out[nth] ?? {};
}

/** Runs 60 samples (six buckets); with `swapAt`, swaps resample for `to` after that many samples went through. */
async function run(swapAt?: number, to?: ChainStep) {
  const logs: Array<{ message: string; context: Record<string, unknown> }> = [];
  const { pipeline, messages } = runner(logs);
  await pipeline.start();
  let handoffs: Awaited<ReturnType<PipelineRunner['swap']>> = [];
  if (swapAt === undefined) {
    write(pipeline, 0, 60);
  } else {
    write(pipeline, 0, swapAt);
    // Batches of at most 4 frames: once this many are done, the old version has seen every one of them.
    await waitFor(() => pipeline.status().batchesDone >= Math.ceil(swapAt / 4), 5000, () => `${pipeline.status().batchesDone} batches done`);
    handoffs = await pipeline.swap([{ index: 1, step: to! }]);
    write(pipeline, swapAt, 60);
  }
  await pipeline.stop();
  return { messages, handoffs, logs, status: pipeline.status() };
}

test('resample swapped mid-bucket hands its open bucket over: the output equals the unswapped run and the arithmetic', async () => {
  const unswapped = await run();
  // 25 samples: buckets 0 and 1 closed, bucket 2 open with samples 20..24.
  const swapped = await run(25, { plugin: resampleV2, kind: 'transform', with: BUCKETS, version: '0.2.0' });
  assert.deepEqual(swapped.handoffs.map((h) => [h.index, h.handoff.state]), [[1, 'restored']]);
  assert.deepEqual(swapped.messages, unswapped.messages);
  for (let k = 0; k < 6; k++) assert.deepEqual(aggregatesOf(swapped.messages, T0 + 1000 * k), bucketByHand(k), `bucket ${k}`);
  assert.deepEqual(swapped.status.swaps.history.map((h) => [h.step, h.version, h.outcome]), [[1, '0.2.0', 'live']]);
});

test('a successor that refuses the state (another bucket length) starts fresh after the old version drained its open bucket', async () => {
  const longer = resample.withDefaults({ bucket: 2000, grace: 0, aggregates: ['mean', 'count', 'first', 'last'] });
  const swapped = await run(25, { plugin: resampleV2, kind: 'transform', with: longer, version: '0.2.0' });
  const handoff = swapped.handoffs[0]!.handoff;
  assert.equal(handoff.state, 'fresh');
  assert.match(handoff.state === 'fresh' ? handoff.reason : '', /refused the snapshot: cannot restore buckets of other settings/);
  // The old version closed bucket 2 with what it had, samples 20..24; the new one's 2 s buckets start
  // with sample 25: [2000, 4000) holds 25..39, [4000, 6000) 40..59.
  assert.deepEqual(aggregatesOf(swapped.messages, T0 + 2000, 0), bucketByHand(2, 20, 25));
  assert.deepEqual(aggregatesOf(swapped.messages, T0 + 2000, 1), bucketByHand(2, 25, 40));
  assert.deepEqual(aggregatesOf(swapped.messages, T0 + 4000), bucketByHand(4, 40, 60));
  assert.ok(swapped.messages.every((m) => (JSON.parse(m) as { ts: number }).ts <= T0 + 4000), 'nothing of the old 1 s buckets after the swap');
});

test('the control channel: status names the plugins the worker runs, drain flushes the open bucket between two batches', async () => {
  const { pipeline, messages } = runner();
  await pipeline.start();
  try {
    write(pipeline, 0, 25);
    await waitFor(() => pipeline.status().batchesDone >= Math.ceil(25 / 4), 5000);
    assert.deepEqual((await pipeline.workerStatus()).plugins, ['probe-decoder', 'resample', 'json']);
    await waitFor(() => aggregatesOf(messages, T0 + 1000).count === 10, 5000);
    assert.deepEqual(aggregatesOf(messages, T0 + 2000), {}, 'bucket 2 is still open');
    await pipeline.drain();
    await waitFor(() => aggregatesOf(messages, T0 + 2000).count !== undefined, 5000);
    assert.deepEqual(aggregatesOf(messages, T0 + 2000), bucketByHand(2, 20, 25));
  } finally {
    await pipeline.stop();
  }
});
