/**
 * Hot swap on the real daemon under load: a PLC simulator whose register pair 0-1 numbers every poll
 * it answers (counting-plc.ts), 100 registers a poll every 10 ms (up to 10 k samples/s; the test prints the rate it reached, which a
 * loaded machine keeps lower), mosquitto and
 * an independent subscriber. `wasmgate reload` swaps the encoder, then the decoder, for other module
 * versions while the polls go on; every number the PLC answered must arrive exactly once, with all
 * its poll's samples, and the pipeline must not have been restarted (its worker never was, its
 * published counter kept counting).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { startCountingPlc, type CountingPlc } from '../support/counting-plc.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { writePluginVersion } from '../support/plugin-versions.js';

const gate = needs('mosquitto', !!mosquittoPath());
/** Registers read per poll: the counter pair and 98 more, one sample each, 99 samples a poll. */
const SAMPLES_PER_POLL = 99;

function pipeline(plcPort: number, decoder: string, encoder: string, decoderWith = ''): string {
  const others = Array.from({ length: SAMPLES_PER_POLL - 1 }, (_, i) => `          - { name: r${i + 2}, function: 3, address: ${i + 2}, type: uint16 }`).join('\n');
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 10ms
        timeout: 2s
        retries: 0
        points:
          - { name: polls, function: 3, address: 0, type: uint32 }
${others}
steps:
  - ${decoder}${decoderWith ? `\n    with: ${decoderWith}` : ''}
  - ${encoder}
    with: { shape: batch }
publish: { uplink: cloud, topic: "plant/all" }
`;
}

let broker: TestBroker;
let plc: CountingPlc;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;
let pipelineFile: string;

/**
 * Every poll number the messages carry, with the samples its poll brought. A message is one batch of
 * the worker: the samples of one or more whole polls (one frame each), each poll's counter first.
 */
function polls(): Array<{ n: number; samples: number }> {
  return subscriber.messages.flatMap((m) => {
    const samples = JSON.parse(m.payload.toString()) as Array<{ point: string; value: number }>;
    const out: Array<{ n: number; samples: number }> = [];
    for (const s of samples) {
      if (s.point === 'polls') out.push({ n: s.value, samples: 0 });
      // A message may begin with the second request of a poll (when a poll is two requests).
      if (out.length > 0) out.at(-1)!.samples++;
    }
    return out;
  });
}

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startCountingPlc();
  fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-swap', { logLevel: 'info' }), '');
  pipelineFile = join(fixture.dir, 'pipeline.yaml');
  await writeFile(pipelineFile, pipeline(plc.port, 'plugin: modbus', 'plugin: json'));
  subscriber = await subscribe(broker.url, 'plant/#');
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil((m) => m.length >= 50, 'the pipeline publishing', 20_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

/** Reloads with `yaml` while the polls go on, and checks every poll answered around it arrived once, whole. */
async function swapUnderLoad(yaml: string, expectSwapped: RegExp): Promise<void> {
  const before = await status();
  const fromNumber = plc.last() + 1;
  await writeFile(pipelineFile, yaml);
  const run = await runWasmgate(['reload', '--config', fixture.gatewayFile]);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, expectSwapped);
  assert.match(run.stdout, /^changed: -$/m);
  // Some polls after the swap, then every number from before the reload to here must be in.
  const afterSwap = plc.last();
  await subscriber.waitUntil(() => polls().some((p) => p.n >= afterSwap + 50), 'polls after the swap', 60_000);
  const toNumber = afterSwap + 50;
  const seen = new Map<number, number>();
  for (const p of polls()) {
    if (p.n < fromNumber || p.n > toNumber) continue;
    seen.set(p.n, (seen.get(p.n) ?? 0) + 1);
    assert.equal(p.samples, SAMPLES_PER_POLL, `poll ${p.n} arrived with all its samples`);
  }
  const missing: number[] = [];
  const twice: number[] = [];
  for (let n = fromNumber; n <= toNumber; n++) {
    const count = seen.get(n) ?? 0;
    if (count === 0) missing.push(n);
    if (count > 1) twice.push(n);
  }
  assert.deepEqual({ missing, twice }, { missing: [], twice: [] }, `polls ${fromNumber}..${toNumber} across the swap`);
  const after = await status();
  const [b, a] = [before.pipelines[0]!, after.pipelines[0]!];
  assert.equal(a.workerRestarts, b.workerRestarts, 'the worker was not restarted');
  assert.ok(a.published > b.published, `published kept counting (${b.published} then ${a.published})`);
}

test('swapping the encoder under load (up to 10 k samples/s) loses no poll and duplicates none', gate, async (t) => {
  const encoder = await writePluginVersion(fixture.dir, 'json', '0.2.0');
  const started = Date.now();
  const from = plc.last();
  await swapUnderLoad(pipeline(plc.port, 'plugin: modbus', `path: ${encoder}`), /^swapped: plant \(step 1 json 0\.2\.0, state fresh\)$/m);
  t.diagnostic(`load: ${Math.round(((plc.last() - from) * SAMPLES_PER_POLL) / ((Date.now() - started) / 1000))} samples/s`);
  const s = await status();
  assert.equal(s.pipelines[0]!.steps[1]!.version, '0.2.0');
  const swapped = daemon.lines.find((l) => l.includes('"plugin.swapped"'));
  assert.ok(swapped, 'the log says the step was swapped');
  assert.match(swapped, /"state":"fresh"/);
  assert.match(swapped, /has no wg_snapshot/);
});

test('swapping the decoder with polls in flight: frames requested by the old version decode under the new one, none lost or twice', gate, async () => {
  const decoder = await writePluginVersion(fixture.dir, 'modbus', '0.2.0');
  const encoder = join(fixture.dir, '0.2.0', 'json.wasm');
  await swapUnderLoad(pipeline(plc.port, `path: ${decoder}`, `path: ${encoder}`), /^swapped: plant \(step 0 modbus 0\.2\.0, state fresh\)$/m);
  const s = await status();
  assert.equal(s.pipelines[0]!.steps[0]!.version, '0.2.0');
  assert.equal(s.pipelines[0]!.steps[0]!.traps + s.pipelines[0]!.steps[0]!.errors, 0);
});

test('a decoder whose request plan changes cannot be swapped: the pipeline restarts, its old worker decoding the frames already read', gate, async () => {
  const decoder = join(fixture.dir, '0.2.0', 'modbus.wasm');
  const encoder = join(fixture.dir, '0.2.0', 'json.wasm');
  const fromNumber = plc.last() + 1;
  // 50 registers a request: the 100 registers become two requests, another plan.
  await writeFile(pipelineFile, pipeline(plc.port, `path: ${decoder}`, `path: ${encoder}`, '{ max_registers: 50 }'));
  const run = await runWasmgate(['reload', '--config', fixture.gatewayFile]);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^changed: plant$/m);
  assert.match(run.stdout, /^swapped: -$/m);
  const line = daemon.lines.find((l) => l.includes('"plugin.swap_restart"'));
  assert.ok(line, 'the log says why the swap became a restart');
  assert.match(line, /WG_ERR_SWAP_INCOMPATIBLE/);
  assert.match(line, /its request plan differs \(2 requests for 1\)/);
  const afterRestart = plc.last();
  await subscriber.waitUntil(() => polls().some((p) => p.n >= afterRestart + 50), 'polls after the restart', 60_000);
  // Each poll is now two requests; the counter is in the first: count the numbers only.
  const seen = new Map<number, number>();
  for (const p of polls()) if (p.n >= fromNumber && p.n <= afterRestart + 50) seen.set(p.n, (seen.get(p.n) ?? 0) + 1);
  const missing: number[] = [];
  const twice: number[] = [];
  for (let n = fromNumber; n <= afterRestart + 50; n++) {
    if (!seen.has(n)) missing.push(n);
    else if (seen.get(n)! > 1) twice.push(n);
  }
  assert.deepEqual({ missing, twice }, { missing: [], twice: [] });
});
