/**
 * A bad new version never takes the pipeline down, on the real daemon with a counting PLC (every poll
 * numbered, counting-plc.ts), mosquitto and an independent subscriber. The chain is modbus → a
 * transform → json; the transform starts as pass-through 0.1.0 (test/fixtures/plugins/*.wat, one
 * behaviour each) and a reload offers it a new version:
 * - one that traps on every batch, and one that never returns: both fail their canary run (its own
 *   worker, its deadline) and the old version stays live, the polls going on without a gap;
 * - one that passes the canary and traps after 5 batches: the crash-loop watch rolls it back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
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
import { watBytes } from '../support/plugins.js';

const gate = needs('mosquitto', !!mosquittoPath());

let broker: TestBroker;
let plc: CountingPlc;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;

/** Writes fixture `wat` as transform `<dir>/<version>/filter.wasm` with its manifest; returns the path. */
async function transform(wat: string, version: string): Promise<string> {
  const dir = join(fixture.dir, 'filters', `${wat}-${version}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'filter.wasm'), watBytes(wat));
  await writeFile(join(dir, 'filter.plugin.yaml'), `name: filter\nkind: transform\nabi: 1\nversion: ${version}\ndescription: test fixture ${wat}\n`);
  return join(dir, 'filter.wasm');
}

function pipeline(filter: string): string {
  return `pipeline: { name: plant, swap: { canary_deadline: 500ms, rollback_traps: 3, rollback_window: 30s } }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plc.port}, interval: 20ms, timeout: 2s, retries: 0, points: [{ name: polls, function: 3, address: 0, type: uint32 }] }
steps:
  - plugin: modbus
  - path: ${filter}
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
`;
}

const numbers = () => subscriber.messages.map((m) => (JSON.parse(m.payload.toString()) as { value: number }).value);

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}

async function reload(filter: string) {
  await writeFile(join(fixture.dir, 'pipeline.yaml'), pipeline(filter));
  return runWasmgate(['reload', '--config', fixture.gatewayFile]);
}

/** Every poll from `from` to 50 after the PLC's count now reached the subscriber, once each. */
async function noneLostFrom(from: number): Promise<void> {
  const to = plc.last() + 50;
  await subscriber.waitUntil(() => numbers().some((n) => n >= to), `poll ${to}`, 20_000);
  const seen = numbers().filter((n) => n >= from && n <= to);
  const missing = Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((n) => !seen.includes(n));
  assert.deepEqual({ missing, twice: seen.length - new Set(seen).size }, { missing: [], twice: 0 });
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startCountingPlc();
  fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-containment', { logLevel: 'info' }), '');
  await writeFile(join(fixture.dir, 'pipeline.yaml'), pipeline(await transform('pass-through', '0.1.0')));
  subscriber = await subscribe(broker.url, 'plant/#');
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil((m) => m.length >= 20, 'the pipeline publishing', 20_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('a new version that traps in its canary run is refused; the old one stays live and no poll is lost', gate, async () => {
  const from = plc.last() + 1;
  const run = await reload(await transform('trap', '0.2.0'));
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stderr, /plant: WG_ERR_SWAP_CANARY: the new filter of step 1 of pipeline plant failed its canary run; the old version stays live: WG_ERR_PLUGIN_TRAP/);
  const s = await status();
  assert.equal(s.pipelines[0]!.steps[1]!.version, '0.1.0');
  assert.equal(s.pipelines[0]!.swaps.refused, 1);
  assert.equal(s.pipelines[0]!.steps[1]!.traps, 0, 'the live version never ran the bad one');
  assert.ok(daemon.lines.some((l) => l.includes('"plugin.swap_failed"') && l.includes('WG_ERR_SWAP_CANARY')), 'the log says why');
  await noneLostFrom(from);
});

test('a new version that never returns fails its canary at the deadline; the live worker is never touched', gate, async () => {
  const before = await status();
  const from = plc.last() + 1;
  const run = await reload(await transform('loop-forever-process', '0.3.0'));
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stderr, /WG_ERR_SWAP_CANARY: .*did not finish within its 500 ms deadline/);
  const s = await status();
  assert.equal(s.pipelines[0]!.steps[1]!.version, '0.1.0');
  assert.equal(s.pipelines[0]!.watchdogKills, before.pipelines[0]!.watchdogKills);
  assert.equal(s.pipelines[0]!.workerRestarts, before.pipelines[0]!.workerRestarts);
  await noneLostFrom(from);
});

test('a new version that passes the canary and then traps again and again is rolled back to the previous one', gate, async () => {
  const run = await reload(await transform('trap-after-calls', '0.4.0'));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^swapped: plant \(step 1 filter 0\.4\.0, state fresh\)$/m);
  const line = await daemon.waitForLine((l) => l.includes('"plugin.rollback"'), 'the rollback', 30_000);
  const rollback = JSON.parse(line) as Record<string, unknown>;
  assert.equal(rollback.code, 'WG_ERR_SWAP_ROLLED_BACK');
  assert.equal(rollback.version, '0.4.0');
  assert.equal(rollback.previous, '0.1.0');
  assert.match(String(rollback.reason), /trapped more than 3 times within 30 s after the swap/);
  const rolledBackAt = plc.last() + 1;
  const s = await status();
  const p = s.pipelines[0]!;
  assert.equal(p.steps[1]!.version, '0.1.0');
  assert.equal(p.swaps.rollbacks, 1);
  assert.equal(p.swaps.history.at(-1)!.outcome, 'rolled-back');
  // The trapping version's traps stay counted under its own version; the version back in runs clean.
  const retired = p.retiredSteps.find((r) => r.step === 1 && r.version === '0.4.0');
  assert.ok(retired && retired.traps >= 4, `traps counted against 0.4.0: ${JSON.stringify(p.retiredSteps)}`);
  const text = await runWasmgate(['status', '--config', fixture.gatewayFile]);
  assert.match(text.stdout, /^ {2}swaps: 1 live, 2 refused, 1 rolled back; last: step 2 filter 0\.1\.0 rolled-back at /m);
  await noneLostFrom(rolledBackAt);
  const after = await status();
  assert.equal(after.pipelines[0]!.steps[1]!.traps, 0);
});
