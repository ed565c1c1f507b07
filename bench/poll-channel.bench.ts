/**
 * What it costs to keep the decoder's polling calls off the main thread. The calls (wg_request,
 * wg_frame_length) run in the pipeline worker under its watchdog and the poller reaches them over the
 * poll channel; before, they ran on the main thread, where a trap ended the process and a loop froze
 * it. Measured here, in one run: the round trip of each call over the channel (idle worker, the real
 * modbus decoder), the same call made directly on this thread, and what the other design the issue
 * named (an I/O worker per source) would cost in memory: the RSS of one more idle worker thread; and
 * the third way, which the modbus decoder uses: framing by the rule it declared (wg_framing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { v8Engine, type CompiledPlugin } from '../src/host/engine/engine.js';
import { PluginInstance } from '../src/host/engine/plugin-instance.js';
import type { ChainContext } from '../src/host/pipeline/chain.js';
import { PipelineRunner } from '../src/host/pipeline/pipeline-runner.js';
import { RuleProtocol } from '../src/host/poll/rule-protocol.js';
import { settingsDocument } from '../src/host/pipeline/settings-document.js';
import { BUILTIN_PLUGIN_DIR } from '../src/host/plugin-build/build.js';
import { emitResult, printMachine } from './machine.js';
import { stepSettings } from './step-settings.js';

function load(name: string): CompiledPlugin {
  const file = join(BUILTIN_PLUGIN_DIR, name, 'build', `${name}.wasm`);
  return v8Engine.compile(readFileSync(file), name, file);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function timeCalls(calls: number, call: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    await call(i);
    us.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return us.sort((a, b) => a - b);
}

printMachine();
const context: ChainContext = {
  pipeline: 'bench',
  devices: [{ index: 0, name: 'plc', unit_id: 1 }],
  points: Array.from({ length: 10 }, (_, id) => ({ id, name: `p${id}`, device: 0, function: 3, address: id, type: 'int16', order: 'ABCD', unit: '', scale: 1, offset: 0 })),
};
const modbus = load('modbus');
const runner = new PipelineRunner({
  name: 'bench',
  steps: [{ plugin: modbus, kind: 'decoder', with: await stepSettings('modbus', {}) }, { plugin: load('json'), kind: 'encoder', with: await stepSettings('json', {}) }],
  context,
  ingressBytes: 1 << 16,
  egressBytes: 1 << 16,
  maxBatchRecords: 64,
  batchDeadlineMs: 250,
  onMessage: () => {},
  logger: { log: () => {} },
});
await runner.start();
const protocol = runner.protocol;
const request = await protocol.request(0, 1);
// A response to that request: MBAP with the same transaction id, unit 1, function 3, 20 data bytes.
const response = new Uint8Array([request[0]!, request[1]!, 0, 0, 0, 23, 1, 3, 20, ...new Array<number>(20).fill(0)]);

const CALLS = 20_000;
await timeCalls(2000, (i) => protocol.frameLength(response.subarray(0, 9 + (i % 21)))); // warm up
const frame = await timeCalls(CALLS, () => protocol.frameLength(response));
const build = await timeCalls(CALLS, (i) => protocol.request(0, i & 0xffff));
emitResult('wg_frame_length over the poll channel, p50', percentile(frame, 0.5), 'µs/call');
emitResult('wg_frame_length over the poll channel, p99', percentile(frame, 0.99), 'µs/call');
emitResult('wg_request over the poll channel, p50', percentile(build, 0.5), 'µs/call');

const local = new PluginInstance(modbus);
local.configure(settingsDocument(context, 0, 'modbus', await stepSettings('modbus', {})));
const direct = await timeCalls(CALLS, () => local.frameLength(response));
emitResult('wg_frame_length on this thread (what ran before, unwatched), p50', percentile(direct, 0.5), 'µs/call');
const framing = runner.framing;
if (framing) {
  const byRule = new RuleProtocol(framing, 'bench').forDevice(0);
  const ruled = await timeCalls(CALLS, () => byRule.frameLength(response));
  emitResult('framing by the decoder\'s rule (ABI 1.1 wg_framing, what modbus uses), p50', percentile(ruled, 0.5), 'µs/call');
}
await runner.stop();

// The other design: one more worker thread per source. Its memory, idle, with nothing loaded.
const rssBefore = process.memoryUsage().rss;
const workers = Array.from({ length: 4 }, () => new Worker('setInterval(() => {}, 1000)', { eval: true }));
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
await new Promise((resolve) => setTimeout(resolve, 500));
emitResult('RSS of one more idle worker thread (an I/O worker per source)', (process.memoryUsage().rss - rssBefore) / 4 / 2 ** 20, 'MB');
await Promise.all(workers.map((w) => w.terminate()));
