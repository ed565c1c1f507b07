/**
 * A staged rollout through a real mosquitto to three real gateway processes (issue 14, "Fleet
 * rollout"): `wasmgate fleet rollout` with a canary of one, then the rest. A bad package (the real
 * outlier manifest over a module that passes the swap's canary run and then traps on every batch,
 * test/fixtures/plugins/trap-after-calls.wat) goes live on the canary, whose crash-loop guard rolls
 * it back; the rollout stops there, rolls the canary back, and the other two never hear of it. A good
 * package (the built outlier module, its bytes made new by a custom section) then reaches all three.
 * What runs is read from each daemon itself (`wasmgate status`), and the statuses by an independent
 * subscriber.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import type { RolloutResult } from '../../src/host/fleet/fleet-rollout.js';
import type { FleetStatus } from '../../src/host/fleet/fleet-status.js';
import type { PluginListing } from '../../src/host/packages/plugin-listing.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import type { GatewayFixture } from '../support/gateway-fixture.js';
import { fleetOperator, writeFleetGateway, type FleetOperator } from '../support/fleet-gateway.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { withCustomSection } from '../support/plugin-versions.js';
import { builtPluginPath, watBytes } from '../support/plugins.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
const IDS = ['gw-a', 'gw-b', 'gw-c'];

let broker: TestBroker;
let plc: PlcSimulator;
let vendor: TestKey;
let keyDir: GatewayFixture;
const fixtures = new Map<string, GatewayFixture>();
const daemons = new Map<string, GatewayProcess>();
let operator: FleetOperator;

async function status(id: string): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixtures.get(id)!.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}
const outlierVersion = async (id: string) => (await status(id)).pipelines[0]!.steps[1]!.version;

async function rolloutOf(file: string, extra: string[]): Promise<{ code: number | null; result: RolloutResult; stderr: string }> {
  const run = await runWasmgate(['fleet', 'rollout', file, '--broker', broker.url, '--gateways', IDS.join(','), '--canary', '1', '--status-timeout', '30s', '--json', ...extra]);
  return { code: run.code, result: JSON.parse(run.stdout) as RolloutResult, stderr: run.stderr };
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [21] } } });
  const { writeGatewayFixture } = await import('../support/gateway-fixture.js');
  keyDir = await writeGatewayFixture('', '');
  vendor = await writeKey(keyDir.dir, 'vendor');
  operator = await fleetOperator(broker.url);
  for (const id of IDS) {
    const fixture = await writeFleetGateway(broker.url, id, plc.port, vendor.publicFile);
    fixtures.set(id, fixture);
    const daemon = startGatewayProcess(fixture.gatewayFile);
    daemons.set(id, daemon);
  }
  for (const daemon of daemons.values()) await daemon.waitForLine((l) => l.includes('"fleet.connected"'), 'the fleet client listening', 30_000);
});

after(async () => {
  for (const daemon of daemons.values()) await daemon.stop();
  await operator?.close();
  await plc?.close();
  await broker?.dispose();
  for (const fixture of fixtures.values()) await fixture.dispose();
  await keyDir?.dispose();
});

test('a package that crash-loops stops at the canary, is rolled back there, and never reaches the others', gate, async () => {
  const dir = join(keyDir.dir, 'bad');
  await mkdir(dir);
  const bad = await writePackage(dir, { name: 'outlier', version: '0.2.0', wasm: watBytes('trap-after-calls'), key: vendor });
  const { code, result, stderr } = await rolloutOf(bad, ['--watch', '20s']);
  assert.equal(code, 1, stderr);
  assert.equal(result.ok, false);
  assert.equal(result.stopped?.stage, 'canary');
  assert.deepEqual(result.stages.map((s) => [s.name, s.gateways]), [['canary', ['gw-a']]], 'no wave began');
  const canary = result.stages[0]!.results;
  assert.equal(canary[0]!.outcome, 'applied', 'it went live on the canary first (it passes the swap\'s own canary run)');
  const loop = canary.find((r) => r.outcome === 'rolled-back');
  assert.ok(loop, `the canary's crash-loop guard reported its rollback: ${JSON.stringify(canary)}`);
  assert.equal(loop.code, 'WG_ERR_SWAP_ROLLED_BACK');
  assert.deepEqual(result.rolledBack.map((r) => r.gateway), ['gw-a'], 'only the canary is rolled back: it alone was sent the install');
  assert.equal(result.reached.length, 0);

  // What runs, from each daemon: the canary runs the version before again, the others never changed.
  for (const id of IDS) assert.equal(await outlierVersion(id), '0.1.0', `${id} runs outlier 0.1.0`);
  const list = await runWasmgate(['plugin', 'list', '--config', fixtures.get('gw-a')!.gatewayFile, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const listing = JSON.parse(list.stdout) as PluginListing;
  assert.equal(listing.plugins.find((p) => p.name === 'outlier'), undefined, 'the registry no longer has the bad version active: a restart would not bring it back');
  assert.deepEqual(listing.rolledBack.outlier?.map((v) => v.version), ['0.2.0'], 'it is recorded as rolled back for cause');
  for (const id of ['gw-b', 'gw-c']) assert.ok(!daemons.get(id)!.lines.some((l) => l.includes('"fleet.command"')), `${id} was never sent a command`);

  // The independent subscriber saw the canary's own statuses: applied, then rolled back by its guard.
  const seen = operator.statuses.messages.map((m) => JSON.parse(m.payload.toString()) as FleetStatus).filter((s) => s.gateway === 'gw-a' && s.command.id?.startsWith(result.rollout));
  assert.deepEqual(seen.map((s) => s.outcome).slice(0, 2), ['applied', 'rolled-back']);
  assert.deepEqual(seen.at(-1)!.running.outlier, ['0.1.0'], 'its last status says what runs now');
});

test('a good package reaches the canary, then the rest, and every gateway runs it', gate, async () => {
  const dir = join(keyDir.dir, 'good');
  await mkdir(dir);
  const module = withCustomSection(await readFile(builtPluginPath('outlier')), 'wasmgate-test-version', '0.3.0');
  const good = await writePackage(dir, { name: 'outlier', version: '0.3.0', wasm: module, key: vendor });
  const { code, result, stderr } = await rolloutOf(good, ['--watch', '3s']);
  assert.equal(code, 0, `${stderr}\n${JSON.stringify(result, null, 2)}`);
  assert.deepEqual(result.stages.map((s) => [s.name, s.gateways, s.ok]), [['canary', ['gw-a'], true], ['wave 1', ['gw-b', 'gw-c'], true]]);
  assert.deepEqual(result.reached, IDS);
  assert.deepEqual(result.rolledBack, []);
  for (const id of IDS) assert.equal(await outlierVersion(id), '0.3.0', `${id} runs outlier 0.3.0`);
  for (const id of IDS) {
    const answers = operator.answersTo(`${result.rollout}/${id}/install`);
    assert.deepEqual(answers.map((s) => [s.gateway, s.outcome, s.running.outlier]), [[id, 'applied', ['0.3.0']]], `one status from ${id}, applied`);
  }
});

test('the readable output names each stage and outcome, and the exit code says success', gate, async () => {
  // The same package again: every gateway has it, so each answers unchanged, which is success.
  const dir = join(keyDir.dir, 'good');
  const run = await runWasmgate(['fleet', 'rollout', join(dir, 'outlier-0.3.0.wgp'), '--broker', broker.url, '--gateways', IDS.join(','), '--watch', '0s', '--waves', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^stages: canary \[gw-a\], then wave 1 \[gw-b\], then wave 2 \[gw-c\]; watch 0 s each$/m);
  for (const id of IDS) assert.match(run.stdout, new RegExp(`: ${id} unchanged: outlier 0\\.3\\.0 with these bytes is active already$`, 'm'));
  assert.match(run.stdout, /^done: outlier 0\.3\.0 runs on 3 of 3 gateway\(s\)$/m);
});

test('a gateway whose status does not come stops the rollout, and the earlier stage that applied it is rolled back', gate, async () => {
  // gw-ghost runs nowhere: wave 1 gets no status from it. gw-a applied 0.4.0 in the canary and goes back to 0.3.0.
  const dir = join(keyDir.dir, 'next');
  await mkdir(dir);
  const module = withCustomSection(await readFile(builtPluginPath('outlier')), 'wasmgate-test-version', '0.4.0');
  const next = await writePackage(dir, { name: 'outlier', version: '0.4.0', wasm: module, key: vendor });
  const run = await runWasmgate(['fleet', 'rollout', next, '--broker', broker.url, '--gateways', 'gw-a,gw-ghost', '--watch', '1s', '--status-timeout', '3s', '--json']);
  assert.equal(run.code, 1, run.stderr);
  const result = JSON.parse(run.stdout) as RolloutResult;
  assert.deepEqual(result.stages.map((s) => [s.name, s.ok]), [['canary', true], ['wave 1', false]]);
  assert.deepEqual(result.stages[1]!.results.map((r) => [r.gateway, r.outcome, r.code]), [['gw-ghost', 'no-status', 'WG_ERR_FLEET_NO_STATUS']]);
  assert.match(run.stderr, /^rollout stopped at wave 1: gw-ghost: no-status WG_ERR_FLEET_NO_STATUS: gateway gw-ghost sent no status for command .* within 3000 ms$/m);
  const back = Object.fromEntries(result.rolledBack.map((r) => [r.gateway, r.outcome]));
  assert.deepEqual(back, { 'gw-a': 'applied', 'gw-ghost': 'no-status' }, 'the canary that applied it is rolled back; the silent one was sent the rollback too');
  assert.equal(await outlierVersion('gw-a'), '0.3.0', 'gw-a runs the version it had before the rollout');
  for (const id of ['gw-b', 'gw-c']) assert.equal(await outlierVersion(id), '0.3.0', `${id} was never part of it`);
});

test('the version a crash loop rolled back, rolled out again, is refused at the canary as rolled back for cause', gate, async () => {
  const run = await runWasmgate(['fleet', 'rollout', join(keyDir.dir, 'bad', 'outlier-0.2.0.wgp'), '--broker', broker.url, '--gateways', IDS.join(','), '--watch', '0s', '--json']);
  assert.equal(run.code, 1, run.stderr);
  const result = JSON.parse(run.stdout) as RolloutResult;
  assert.deepEqual(result.stages[0]!.results.map((r) => [r.gateway, r.outcome, r.code]), [['gw-a', 'refused', 'WG_ERR_PACKAGE_ROLLED_BACK']]);
  assert.deepEqual(result.rolledBack, [], 'a refusal is not rolled back: nothing changed');
  for (const id of IDS) assert.equal(await outlierVersion(id), '0.3.0');
});
