/**
 * Installing plugin packages into the real daemon (child process) through `wasmgate plugin install`
 * over its control socket, with the PLC simulator, mosquitto and an independent subscriber. Two
 * pipelines on one PLC: `scaled` (modbus, scale, json), whose scale step the packages replace, and
 * `steady` (modbus, json), which no install touches. Every hostile package is refused with its code
 * while the version that ran before goes on publishing; a good one goes live through the reload
 * machinery (only `scaled` restarts); rollback brings the version before it back.
 *
 * Counters tell "restarted" from "untouched": a restarted pipeline counts from 0 again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { encodePackage, parsePackage } from '../../src/host/packages/plugin-package.js';
import type { PluginListing } from '../../src/host/packages/plugin-listing.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { builtPluginPath, watBytes } from '../support/plugins.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { waitFor, waitForAsync } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
// Register 0 holds 21; scale's factor 2 makes it 42 (by hand), so a message of 42 is scale at work.
const RAW = 21;

function pipeline(name: string, plcPort: number, scaled: boolean): string {
  return `pipeline: { name: ${name} }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 100ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
${scaled ? '  - plugin: scale\n    with: { points: { level: { factor: 2 } } }\n' : ''}  - plugin: json
publish: { uplink: cloud, topic: "${name}/{point}" }
`;
}

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;
let vendor: TestKey;
let stranger: TestKey;

const pkgDir = () => join(fixture.dir, 'packages');

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}
const pipelineOf = (s: ControlStatus, name: string) => s.pipelines.find((p) => p.name === name)!;
const scaleVersion = (s: ControlStatus) => pipelineOf(s, 'scaled').steps[1]!.version;

/** The pipelines go on: `scaled` keeps the version it had and both keep counting (neither restarted). */
async function keptRunning(before: ControlStatus): Promise<void> {
  const was = (s: ControlStatus, n: string) => pipelineOf(s, n).published;
  await waitForAsync(async () => {
    const now = await status();
    return was(now, 'scaled') > was(before, 'scaled') && was(now, 'steady') > was(before, 'steady');
  }, 20_000, () => 'both pipelines publishing on');
  const now = await status();
  assert.equal(scaleVersion(now), scaleVersion(before), 'the running version keeps running');
  assert.deepEqual(now.pipelines.map((p) => [p.name, p.state]), [['scaled', 'running'], ['steady', 'running']]);
}

async function install(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runWasmgate(['plugin', 'install', file, '--config', fixture.gatewayFile]);
}

/**
 * Resolves once one more daemon log line than now satisfies `match`: log lines come through a pipe,
 * maybe after the answer on the socket, so they are waited for, never looked up at once.
 */
function nextLogLine(match: (line: string) => boolean, what: string): () => Promise<string> {
  const before = daemon.lines.filter(match).length;
  return async () => {
    await waitFor(() => daemon.lines.filter(match).length > before, 10_000, () => `${what}; last lines: ${daemon.lines.slice(-3).join('\n')}`);
    return daemon.lines.filter(match).at(-1)!;
  };
}

async function refused(file: string, code: string, detail: RegExp): Promise<void> {
  const before = await status();
  const logged = nextLogLine((l) => l.includes('"plugin.install_refused"') && l.includes(code), `the daemon logs the refusal with ${code}`);
  const run = await install(file);
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stderr, new RegExp(`\\[${code}\\]`));
  assert.match(run.stderr, detail);
  await logged();
  await keptRunning(before);
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [RAW] } } });
  const gateway = `${gatewayYaml(broker.url, 'gw-packages', { logLevel: 'info', pipelines: ['./scaled.yaml', './steady.yaml'] })}plugins:\n  require_signed: true\n  trusted_keys: [./vendor.pub]\n`;
  fixture = await writeGatewayFixture(gateway, '');
  await writeFile(join(fixture.dir, 'scaled.yaml'), pipeline('scaled', plc.port, true));
  await writeFile(join(fixture.dir, 'steady.yaml'), pipeline('steady', plc.port, false));
  vendor = await writeKey(fixture.dir, 'vendor');
  stranger = await writeKey(fixture.dir, 'stranger');
  await import('node:fs/promises').then((fs) => fs.mkdir(pkgDir()));
  subscriber = await subscribe(broker.url, '#');
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil((m) => m.some((x) => x.topic === 'scaled/level') && m.some((x) => x.topic === 'steady/level'), 'both pipelines publishing', 20_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('a package signed by a trusted key goes live through the daemon: swapped into the pipeline that runs it, the other untouched', gate, async () => {
  const before = await status();
  assert.equal(scaleVersion(before), '0.1.0', 'the plugin directory\'s version runs first');
  const installed = nextLogLine((l) => l.includes('"plugin.installed"') && l.includes('"version":"0.2.0"'), 'the install logged');
  const reloadedLine = nextLogLine((l) => l.includes('configuration reloaded'), 'the reload logged');
  const run = await install(await writePackage(pkgDir(), { name: 'scale', version: '0.2.0', key: vendor }));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /done by the running daemon/);
  assert.equal(run.stdout, `installed scale 0.2.0 (signed by key ${vendor.keyId}); before: none in the registry\npipelines running it: scaled\n`);
  const after = await status();
  assert.equal(scaleVersion(after), '0.2.0');
  assert.ok(pipelineOf(after, 'steady').published >= pipelineOf(before, 'steady').published, 'steady was not restarted');
  await installed();
  const reloaded = JSON.parse(await reloadedLine()) as { unchanged: string[]; changed: string[]; swapped: Array<{ pipeline: string; steps: Array<{ plugin: string; version: string }> }> };
  // Only the module changed: the step is swapped inside the running worker, nothing restarts.
  assert.deepEqual([reloaded.unchanged, reloaded.changed], [['steady'], []]);
  assert.deepEqual(reloaded.swapped.map((x) => [x.pipeline, x.steps.map((st) => `${st.plugin} ${st.version}`)]), [['scaled', ['scale 0.2.0']]]);
  const since = subscriber.messages.length;
  await subscriber.waitUntil((m) => m.slice(since).some((x) => x.topic === 'scaled/level' && /"value":42\b/.test(x.payload.toString())), 'scaled values from the new version', 20_000);
});

test('an unsigned package is refused under require_signed', gate, async () => {
  await refused(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0' }), 'WG_ERR_PACKAGE_UNSIGNED', /has no signature and plugins\.require_signed is true/);
});

test('a package signed by a key the gateway does not trust is refused', gate, async () => {
  await refused(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: stranger }), 'WG_ERR_PACKAGE_UNTRUSTED_KEY', new RegExp(`signed by key ${stranger.keyId}, which this gateway does not trust`));
});

test('a package whose module or manifest changed after signing is refused as tampered', gate, async () => {
  const good = parsePackage(await readFile(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: vendor })), 'good.wgp');
  const module = Buffer.from(good.module);
  module[module.length - 1] ^= 1;
  const swapped = join(pkgDir(), 'swapped.wgp');
  await writeFile(swapped, encodePackage({ manifestBytes: good.manifestBytes, module, signature: good.signature }));
  await refused(swapped, 'WG_ERR_PACKAGE_TAMPERED', /the module's sha256 is/);
  const edited = join(pkgDir(), 'edited.wgp');
  const manifest = Buffer.from(Buffer.from(good.manifestBytes).toString('utf8').replace('version: 0.3.0', 'version: 0.3.1'));
  await writeFile(edited, encodePackage({ manifestBytes: manifest, module: good.module, signature: good.signature }));
  await refused(edited, 'WG_ERR_PACKAGE_TAMPERED', new RegExp(`signature by key ${vendor.keyId} does not verify`));
});

test('a validly signed older version is refused: no downgrade by replay', gate, async () => {
  await refused(await writePackage(pkgDir(), { name: 'scale', version: '0.1.5', key: vendor }), 'WG_ERR_PACKAGE_DOWNGRADE', /scale 0\.1\.5 is older than the active version 0\.2\.0/);
});

test('a package whose manifest lies about its kind is refused', gate, async () => {
  const wasm = await readFile(builtPluginPath('modbus'));
  await refused(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', wasm, key: vendor }), 'WG_ERR_PACKAGE_KIND', /declares kind transform, which its module is not: it exports the polling group/);
});

test('a module importing a host function its manifest does not grant it is refused before it runs, naming the import', gate, async () => {
  // Its start function loops forever: had the daemon instantiated it, the install would hang.
  await refused(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', wasm: watBytes('imports-now-loop-start'), key: vendor }), 'WG_ERR_PLUGIN_ABI', /"wasmgate\.now", which its manifest does not list/);
});

test('a package the running configuration cannot take does not go live, and the registry is as it was', gate, async () => {
  // Its settings schema no longer has `points`, which the scaled pipeline's step sets.
  const file = await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: vendor, edit: (m) => m.replace(/^ {4}points:$/m, '    pointz:') });
  await refused(file, 'WG_ERR_PACKAGE_NOT_LIVE', /scaled\.yaml:\d+:\d+ steps\[1\]\.with\.points/);
  const list = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--json']);
  const listing = JSON.parse(list.stdout) as PluginListing;
  assert.deepEqual(listing.plugins.map((p) => [p.name, p.active.version, p.previous.map((v) => v.version)]), [['scale', '0.2.0', []]]);
});

test('a package whose new version traps in the running pipeline\'s canary does not go live: the old version never stops, the registry is as it was', gate, async () => {
  // test/fixtures/plugins/trap.wat traps in every wg_process: it configures, so only the canary run on
  // the pipeline's recent batches can tell.
  const file = await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: vendor, wasm: watBytes('trap') });
  await refused(file, 'WG_ERR_PACKAGE_NOT_LIVE', /the running pipelines refused the new version, the previous one runs on: pipeline scaled: WG_ERR_SWAP_CANARY/);
  const list = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--json']);
  const listing = JSON.parse(list.stdout) as PluginListing;
  assert.deepEqual(listing.plugins.map((p) => [p.name, p.active.version, p.previous.map((v) => v.version)]), [['scale', '0.2.0', []]]);
  assert.equal(scaleVersion(await status()), '0.2.0', 'the running step is still the old version');
  const since = subscriber.messages.length;
  await subscriber.waitUntil((m) => m.slice(since).some((x) => x.topic === 'scaled/level' && /"value":42\b/.test(x.payload.toString())), 'scaled values from the old version', 20_000);
});

/**
 * The module with a custom section of `size` bytes appended (a name section's neighbour: engines skip
 * custom sections they do not know), so the package is too big to travel inside a request line.
 */
function padded(wasm: Uint8Array, size: number): Uint8Array {
  const name = Buffer.from('padding');
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.alloc(size)]);
  const leb: number[] = [];
  for (let n = body.length; ; n >>>= 7) {
    leb.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) break;
  }
  return Buffer.concat([wasm, Buffer.from([0, ...leb]), body]);
}

test('a newer good version installs, list shows both, and rollback brings the one before back', gate, async () => {
  // 64 KiB of padding: sent by path, not inside the request, and read by the daemon from the file.
  const wasm = padded(await readFile(builtPluginPath('scale')), 64 * 1024);
  const run = await install(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: vendor, wasm }));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^installed scale 0\.3\.0 .*; before: 0\.2\.0\n/);
  assert.equal(scaleVersion(await status()), '0.3.0');
  const again = await install(join(pkgDir(), 'scale-0.3.0.wgp'));
  assert.equal(again.stdout, 'scale 0.3.0 is the active version already: nothing changed\n');

  const list = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const listing = JSON.parse(list.stdout) as PluginListing;
  assert.deepEqual(listing.plugins.map((p) => [p.name, p.active.version, p.active.pipelines, p.previous.map((v) => v.version)]), [['scale', '0.3.0', ['scaled'], ['0.2.0']]]);
  assert.deepEqual(listing.steps.filter((s) => s.plugin === 'scale'), [{ pipeline: 'scaled', step: 1, plugin: 'scale', version: '0.3.0', from: 'registry' }]);

  const rolledBack = nextLogLine((l) => l.includes('"plugin.rolled_back"') && l.includes('"to":"0.2.0"'), 'the rollback logged');
  const back = await runWasmgate(['plugin', 'rollback', 'scale', '--config', fixture.gatewayFile]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, 'rolled scale back from 0.3.0 to 0.2.0\npipelines running it: scaled\n');
  const after = await status();
  assert.equal(scaleVersion(after), '0.2.0');
  assert.equal(pipelineOf(after, 'scaled').state, 'running');
  await rolledBack();
});
