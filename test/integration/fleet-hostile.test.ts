/**
 * Hostile fleet commands against one real gateway process through a real mosquitto, each a tiny
 * test: every one is refused with its code on the retained status topic while the version that ran
 * before runs on (read from the daemon itself), or, for a replay and a flood, bounded and counted.
 * Packages by URL come from an HTTP server in this process (node:http on port 0) that serves a good
 * package, a 404, one far past fleet.max_package, and one that stalls after its first bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import type { FleetStatus } from '../../src/host/fleet/fleet-status.js';
import { encodePackage, parsePackage } from '../../src/host/packages/plugin-package.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import type { GatewayFixture } from '../support/gateway-fixture.js';
import { fleetOperator, inAnHour, writeFleetGateway, type FleetOperator } from '../support/fleet-gateway.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { withCustomSection } from '../support/plugin-versions.js';
import { builtPluginPath } from '../support/plugins.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
const GW = 'gw-h';
const QUEUE = 4;
const MAX_PACKAGE = 64 * 1024;

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let daemon: GatewayProcess;
let operator: FleetOperator;
let vendor: TestKey;
let http: Server;
let base: string;
/** Packages by name, as bytes. */
const packages = new Map<string, Uint8Array>();
let seq = 0;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const nextId = (what: string) => `hostile-${what}-${++seq}`;

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}

/** The version before runs on and the pipeline keeps publishing. */
async function runsOn(version = '0.1.0'): Promise<void> {
  const before = (await status()).pipelines[0]!.published;
  let now = await status();
  for (let i = 0; i < 100 && now.pipelines[0]!.published <= before; i++) now = await status();
  assert.ok(now.pipelines[0]!.published > before, 'the pipeline keeps publishing');
  assert.equal(now.pipelines[0]!.state, 'running');
  assert.equal(now.pipelines[0]!.steps[1]!.version, version, `outlier ${version} runs`);
}

function install(id: string, name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const bytes = packages.get(name)!;
  return { id, op: 'install', plugin: 'outlier', version: '0.2.0', sha256: sha(bytes), package: b64(bytes), expires: inAnHour(), ...over };
}

async function refusedWith(command: Record<string, unknown>, code: string, reason: RegExp): Promise<FleetStatus> {
  await operator.send(GW, command);
  const answer = await operator.answer(String(command.id));
  assert.deepEqual([answer.outcome, answer.code], ['refused', code], answer.reason);
  assert.match(answer.reason!, reason);
  assert.deepEqual(answer.running.outlier, ['0.1.0'], 'the status says what runs: the version before');
  await runsOn();
  return answer;
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [21] } } });
  const { writeGatewayFixture } = await import('../support/gateway-fixture.js');
  const keys = await writeGatewayFixture('', '');
  vendor = await writeKey(keys.dir, 'vendor');
  fixture = await writeFleetGateway(broker.url, GW, plc.port, vendor.publicFile, [`max_package: ${MAX_PACKAGE}`, 'fetch_timeout: 1s', `queue: ${QUEUE}`, 'groups: [ line-3 ]']);
  const dir = join(fixture.dir, 'packages');
  await mkdir(dir);
  const module = withCustomSection(await readFile(builtPluginPath('outlier')), 'wasmgate-test-version', '0.2.0');
  packages.set('good', await readFile(await writePackage(dir, { name: 'outlier', version: '0.2.0', wasm: module, key: vendor })));
  packages.set('unsigned', await readFile(await writePackage(dir, { name: 'outlier', version: '0.2.0', wasm: module })));
  // Signed, then its manifest changed: the statement the signature covers no longer matches.
  const signed = parsePackage(packages.get('good')!, 'good.wgp');
  const edited = Buffer.from(`${Buffer.from(signed.manifestBytes).toString('utf8')}# a line added after signing\n`);
  packages.set('tampered', encodePackage({ manifestBytes: edited, module: signed.module, signature: signed.signature }));
  const padded = withCustomSection(module, 'padding', 'x'.repeat(100_000));
  packages.set('big', await readFile(await writePackage(dir, { name: 'outlier', version: '0.2.1', wasm: padded, key: vendor })));
  assert.ok(packages.get('big')!.length > MAX_PACKAGE);

  http = createServer((req, res) => {
    if (req.url === '/good.wgp') return res.end(packages.get('good'));
    if (req.url === '/big.wgp') return res.end(packages.get('big'));
    if (req.url === '/stall.wgp') {
      res.writeHead(200, { 'content-length': String(packages.get('good')!.length) });
      res.write(packages.get('good')!.subarray(0, 512)); // and never the rest
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  operator = await fleetOperator(broker.url);
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"fleet.connected"'), 'the fleet client listening', 30_000);
});

after(async () => {
  await daemon?.stop();
  await operator?.close();
  http?.closeAllConnections();
  http?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('a command to a group the gateway belongs to reaches it; one to another group does not', gate, async () => {
  const other = nextId('other-group');
  await operator.publish('wasmgate/fleet/group/line-4/command', { id: other, op: 'status', expires: inAnHour() });
  const id = nextId('group');
  await operator.publish('wasmgate/fleet/group/line-3/command', { id, op: 'status', expires: inAnHour() });
  assert.equal((await operator.answer(id)).gateway, GW);
  // Commands are worked on in order and statuses arrive in order: line-4's would have come first.
  assert.equal(operator.answersTo(other).length, 0);
});

test('a command that is not JSON is refused, with no id to answer', gate, async () => {
  const before = operator.answersTo(null).length;
  await operator.send(GW, '{"id": "x", "op": "install", ');
  await operator.statuses.waitUntil(() => operator.answersTo(null).length > before, 'a refusal without id', 20_000);
  const answer = operator.answersTo(null).at(-1)!;
  assert.deepEqual([answer.outcome, answer.code], ['refused', 'WG_ERR_FLEET_COMMAND']);
  assert.match(answer.reason!, /not JSON/);
  await runsOn();
});

test('a command with an unknown op or field is refused naming it', gate, async () => {
  await refusedWith({ id: nextId('op'), op: 'explode', expires: inAnHour() }, 'WG_ERR_FLEET_COMMAND', /op must be install, rollback or status \(got "explode"\)/);
  await refusedWith({ ...install(nextId('field'), 'good'), shell: 'rm -rf /' }, 'WG_ERR_FLEET_COMMAND', /install has no field shell/);
});

test('a package whose sha256 is not the one the command names is refused before it is read', gate, async () => {
  await refusedWith(install(nextId('hash'), 'good', { sha256: sha(Buffer.from('another package')) }), 'WG_ERR_FLEET_HASH', /the command names [0-9a-f]{64}: not applied/);
});

test('an unsigned package is refused under require_signed', gate, async () => {
  await refusedWith(install(nextId('unsigned'), 'unsigned'), 'WG_ERR_PACKAGE_UNSIGNED', /has no signature and plugins.require_signed is true/);
});

test('a package changed after signing is refused', gate, async () => {
  await refusedWith(install(nextId('tampered'), 'tampered'), 'WG_ERR_PACKAGE_TAMPERED', /does not verify/);
});

test('a package past fleet.max_package is refused, in the command and by URL', gate, async () => {
  await refusedWith(install(nextId('big'), 'big', { version: '0.2.1' }), 'WG_ERR_FLEET_PACKAGE_SIZE', new RegExp(`larger than fleet.max_package \\(${MAX_PACKAGE} bytes\\)`));
  const { package: _, ...byUrl } = install(nextId('big-url'), 'big', { version: '0.2.1', url: `${base}/big.wgp` });
  await refusedWith(byUrl, 'WG_ERR_FLEET_PACKAGE_SIZE', /the server declares \d+ bytes/);
});

test('a URL that fails, and one that stalls, are refused; the stall costs fleet.fetch_timeout', gate, async () => {
  const { package: _a, ...missing } = install(nextId('404'), 'good', { url: `${base}/missing.wgp` });
  await refusedWith(missing, 'WG_ERR_FLEET_FETCH', /the server answered 404/);
  const { package: _b, ...stall } = install(nextId('stall'), 'good', { url: `${base}/stall.wgp` });
  await refusedWith(stall, 'WG_ERR_FLEET_FETCH', /not complete within 1000 ms \(fleet.fetch_timeout\); 512 bytes came/);
});

test('an expired command is refused', gate, async () => {
  await refusedWith(install(nextId('expired'), 'good', { expires: new Date(Date.now() - 60_000).toISOString() }), 'WG_ERR_FLEET_EXPIRED', /expired at/);
});

test('a command id delivered again is not applied again, also as a retained command after a restart', gate, async () => {
  const id = nextId('replay');
  const { package: _, ...byUrl } = install(id, 'good', { url: `${base}/good.wgp` });
  await operator.send(GW, byUrl);
  assert.equal((await operator.answer(id)).outcome, 'applied');
  await runsOn('0.2.0');
  const back = nextId('back');
  await operator.send(GW, { id: back, op: 'rollback', plugin: 'outlier', version: '0.2.0', expires: inAnHour() });
  assert.equal((await operator.answer(back)).outcome, 'applied');
  await runsOn('0.1.0');

  // The same install again, as QoS 1 redelivers it: ignored, counted, and 0.1.0 runs on.
  await operator.send(GW, byUrl);
  const probe = nextId('probe');
  await operator.send(GW, { id: probe, op: 'status', expires: inAnHour() });
  assert.equal((await operator.answer(probe)).counters.duplicates, 1);
  assert.equal(operator.answersTo(id).length, 1, 'one status for the install, not two');
  await runsOn('0.1.0');

  // Retained, to a gateway that restarts: the journal in the data directory still knows the id.
  await operator.send(GW, byUrl, { retain: true });
  await daemon.stop();
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"fleet.duplicate"') && l.includes(id), 'the retained command seen as a duplicate', 30_000);
  const after = nextId('probe');
  await operator.send(GW, { id: after, op: 'status', expires: inAnHour() });
  assert.equal((await operator.answer(after)).counters.duplicates, 1);
  assert.equal(operator.answersTo(id).length, 1);
  await runsOn('0.1.0');
  await operator.send(GW, '', { retain: true }); // an empty retained message clears the topic
});

test('a flood of commands is bounded by fleet.queue: each is answered or dropped and counted', gate, async () => {
  const FLOOD = 200;
  const ids = Array.from({ length: FLOOD }, () => nextId('flood'));
  const first = nextId('before-flood');
  await operator.send(GW, { id: first, op: 'status', expires: inAnHour() });
  const droppedBefore = (await operator.answer(first)).counters.dropped;
  // Each send waits for its PUBACK, all at once: the broker hands them over as fast as it can.
  await Promise.all(ids.map((id) => operator.send(GW, { id, op: 'status', expires: inAnHour() })));
  // Probes after the flood, until one finds room. Commands are worked on in the order they came and
  // statuses arrive in the order published, so once a probe is answered every earlier command that
  // was queued has been answered too: the earlier probes still unanswered were dropped.
  const probes: string[] = [];
  let answer: FleetStatus | undefined;
  while (!answer && probes.length < 100) {
    probes.push(nextId('after-flood'));
    await operator.send(GW, { id: probes.at(-1)!, op: 'status', expires: inAnHour() });
    answer = await operator.answer(probes.at(-1)!, 2_000).catch(() => undefined);
  }
  assert.ok(answer, 'the gateway still answers after the flood');
  const droppedProbes = probes.slice(0, -1).filter((id) => operator.answersTo(id).length === 0).length;
  const answered = ids.filter((id) => operator.answersTo(id).length > 0).length;
  const dropped = answer.counters.dropped - droppedBefore - droppedProbes;
  assert.ok(dropped > 0, `the queue of ${QUEUE} overflowed (answered ${answered})`);
  assert.equal(answered + dropped, FLOOD, 'every command of the flood was answered or counted as dropped');
  assert.ok(daemon.lines.filter((l) => l.includes('"fleet.dropped"')).length <= 2, 'the drops are logged at a bounded rate, not once each');
  await runsOn();
});
