/**
 * The registry against what the daemon did, on the real daemon (child process) with the PLC simulator
 * and mosquitto; the step is `plugin: scale`, replaced by packages whose modules are the tiny fixtures
 * of test/fixtures/plugins (pass-through.wat; trap-after-calls.wat, which passes the canary and then
 * traps on every sixth call). What broke before:
 * - `plugin rollback` went back to a version whose signing key had been removed from trusted_keys;
 * - the crash-loop guard rolled the step back in the worker but left the registry naming the bad
 *   version active, so the next reload swapped it in again, and installing it again was accepted as a
 *   plain upgrade.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import type { PluginListing } from '../../src/host/packages/plugin-listing.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { watBytes } from '../support/plugins.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let daemon: GatewayProcess;
let old: TestKey;
let current: TestKey;
const pkgDir = () => join(fixture.dir, 'packages');

const gatewayFile = (keys: string[]) => `${gatewayYaml(broker.url, 'gw-rollback-cause', { logLevel: 'info' })}plugins:\n  require_signed: true\n  trusted_keys: [${keys.join(', ')}]\n`;

function pipeline(plcPort: number): string {
  return `pipeline: { name: scaled, swap: { rollback_traps: 3, rollback_window: 30s } }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 50ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: scale
    with: { points: { level: { factor: 2 } } }
  - plugin: json
publish: { uplink: cloud, topic: "scaled/{point}" }
`;
}

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}
const scaleVersion = async () => (await status()).pipelines[0]!.steps[1]!.version;
async function listing(): Promise<PluginListing> {
  const run = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as PluginListing;
}
const kept = async () => (await listing()).plugins.filter((p) => p.name === 'scale').map((p) => [p.active.version, ...p.previous.map((v) => v.version)]);
const install = (file: string, ...extra: string[]) => runWasmgate(['plugin', 'install', file, '--config', fixture.gatewayFile, ...extra]);
const pass = (version: string, key: TestKey) => writePackage(pkgDir(), { name: 'scale', version, key, wasm: watBytes('pass-through') });

function nextLine(match: (line: string) => boolean, what: string): () => Promise<Record<string, unknown>> {
  const from = daemon.lines.length;
  return async () => {
    await waitFor(() => daemon.lines.slice(from).some(match), 30_000, () => `${what}; last lines: ${daemon.lines.slice(-3).join('\n')}`);
    return JSON.parse(daemon.lines.slice(from).find(match)!) as Record<string, unknown>;
  };
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [21] } } });
  fixture = await writeGatewayFixture('', '');
  old = await writeKey(fixture.dir, 'old');
  current = await writeKey(fixture.dir, 'current');
  await writeFile(fixture.gatewayFile, gatewayFile(['./old.pub', './current.pub']));
  await writeFile(join(fixture.dir, 'pipeline.yaml'), pipeline(plc.port));
  await mkdir(pkgDir());
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway.started"'), 'gateway started', 30_000);
});

after(async () => {
  await daemon?.stop();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('a rollback to a version only a key removed from trusted_keys signed is refused; the running version runs on', gate, async () => {
  for (const [version, key] of [['0.2.0', old], ['0.2.5', current]] as const) {
    const run = await install(await pass(version, key));
    assert.equal(run.code, 0, run.stderr);
  }
  assert.equal(await scaleVersion(), '0.2.5');
  // The old key is revoked: the gateway file lists only the current one, applied by a reload.
  await writeFile(fixture.gatewayFile, gatewayFile(['./current.pub']));
  const reload = await runWasmgate(['reload', '--config', fixture.gatewayFile]);
  assert.equal(reload.code, 0, reload.stderr);
  const refused = nextLine((l) => l.includes('"plugin.rollback_refused"') && l.includes('WG_ERR_ROLLBACK_UNTRUSTED'), 'the refusal logged');
  const back = await runWasmgate(['plugin', 'rollback', 'scale', '--config', fixture.gatewayFile]);
  assert.equal(back.code, 1, back.stdout);
  assert.match(back.stderr, new RegExp(`plugin scale cannot be rolled back to 0\\.2\\.0: its stored package no longer passes this gateway's trust settings: .*signed by key ${old.keyId}, which this gateway does not trust.*\\[WG_ERR_ROLLBACK_UNTRUSTED\\]`));
  await refused();
  assert.equal(await scaleVersion(), '0.2.5');
  assert.deepEqual(await kept(), [['0.2.5', '0.2.0']]);
});

test('a crash-loop rollback is recorded in the registry: a reload keeps the version rolled back to, and the bad one is refused unless forced', gate, async () => {
  const bad = await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: current, wasm: watBytes('trap-after-calls') });
  const guard = nextLine((l) => l.includes('"plugin.rollback"') && l.includes('WG_ERR_SWAP_ROLLED_BACK'), 'the crash-loop rollback in the worker');
  const recorded = nextLine((l) => l.includes('"plugin.rolled_back"') && l.includes('"cause":"crash-loop"'), 'the registry rolled back for cause');
  const run = await install(bad);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^installed scale 0\.3\.0 .*; before: 0\.2\.5\n/);
  await guard();
  const line = await recorded();
  assert.deepEqual([line.from, line.to], ['0.3.0', '0.2.5']);
  assert.equal(await scaleVersion(), '0.2.5');
  const list = await listing();
  assert.deepEqual(list.plugins.map((p) => [p.name, p.active.version]), [['scale', '0.2.5']]);
  assert.deepEqual(list.rolledBack.scale?.map((r) => [r.version, r.pipeline]), [['0.3.0', 'scaled']]);
  assert.match(list.rolledBack.scale![0]!.reason, /trapped more than 3 times within 30 s after the swap/);

  // The registry says what runs: a reload changes nothing (before, it swapped 0.3.0 in again).
  const reload = await runWasmgate(['reload', '--config', fixture.gatewayFile]);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /unchanged: scaled/);
  assert.equal(await scaleVersion(), '0.2.5');

  // 0.3.0 is newer than 0.2.5, but this gateway rolled it back for cause.
  const again = await install(bad);
  assert.equal(again.code, 1, again.stdout);
  assert.match(again.stderr, /plugin scale 0\.3\.0 was rolled back by this gateway for cause \(pipeline scaled, .*\): refused; install it again only with --force \[WG_ERR_PACKAGE_ROLLED_BACK\]/);
  assert.equal(await scaleVersion(), '0.2.5');

  // Forced, it goes live (the registry records that on the version: test/unit/registry-concurrency-and-
  // cause.test.ts), and is still watched: it traps again, and the guard rolls it back and records it again.
  const rolledBackAgain = nextLine((l) => l.includes('"plugin.rolled_back"') && l.includes('"cause":"crash-loop"'), 'the forced version rolled back again');
  const forced = await install(bad, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /\nforced: this gateway had rolled 0\.3\.0 back \(.*, pipeline scaled: trapped more than 3 times/);
  await rolledBackAgain();
  const after = await listing();
  assert.deepEqual(after.plugins.map((p) => [p.name, p.active.version]), [['scale', '0.2.5']]);
  assert.deepEqual(after.rolledBack.scale?.map((r) => r.version), ['0.3.0']);
});
