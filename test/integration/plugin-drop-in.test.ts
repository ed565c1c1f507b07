/**
 * The drop-in directory on the real daemon (child process), with the PLC simulator, mosquitto and an
 * independent subscriber: a package copied into `plugins.drop_in` goes live through the install path
 * of `wasmgate plugin install` and is moved to installed/; everything hostile is moved to refused/ with
 * a reason file, the version that ran before running on. One behaviour per test, in the order a site
 * would meet them: the directory missing at start, a package renamed into place, the same file twice,
 * a half-written copy, garbage bytes, an unsigned and a tampered package, a symbolic link out of the
 * directory, temp names left alone, a flood, a copy cut short for good. A directory on a read-only
 * file system at start has a daemon of its own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { encodePackage, parsePackage } from '../../src/host/packages/plugin-package.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { mountSmallFileSystem } from '../support/small-file-system.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
// Register 0 holds 21; scale's factor 2 makes it 42 (by hand).
const RAW = 21;

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;
let vendor: TestKey;
/** scale 0.4.0, unsigned. */
let unsignedFile: string;

const dropDir = () => join(fixture.dir, 'drop-in');
const pkgDir = () => join(fixture.dir, 'packages');

function pipeline(plcPort: number): string {
  return `pipeline: { name: scaled }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 100ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
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

/** Resolves with the next daemon line (after now) that satisfies `match`. */
function nextLine(match: (line: string) => boolean, what: string, timeoutMs = 30_000): () => Promise<Record<string, unknown>> {
  const from = daemon.lines.length;
  return async () => {
    await waitFor(() => daemon.lines.slice(from).some(match), timeoutMs, () => `${what}; last lines: ${daemon.lines.slice(-3).join('\n')}`);
    return JSON.parse(daemon.lines.slice(from).find(match)!) as Record<string, unknown>;
  };
}
const event = (name: string, about?: string) => (l: string) => l.includes(`"event":"${name}"`) && (about === undefined || l.includes(about));

/** The files of installed/ or refused/ whose name ends with `name` (each is `<time>-<n>-<name>`). */
async function outcomes(sub: 'installed' | 'refused', name: string): Promise<string[]> {
  return (await readdir(join(dropDir(), sub)).catch(() => [])).filter((f) => f.endsWith(`-${name}`)).sort();
}

/** Copies `file` into the drop-in directory the careful way: written under a dotfile name, then renamed. */
async function dropRenamed(file: string, name: string): Promise<void> {
  const part = join(dropDir(), `.${name}.part`);
  await copyFile(file, part);
  await rename(part, join(dropDir(), name));
}

/** Drops `file` as `name` and waits for it to be refused; returns its reason file's text. */
async function refusedWith(name: string, write: () => Promise<void>, timeoutMs = 30_000): Promise<string> {
  const refused = nextLine(event('dropin.refused', `/${name}"`), `${name} refused`, timeoutMs);
  await write();
  const line = await refused();
  const [moved] = await outcomes('refused', name);
  assert.ok(moved, `${name} is in refused/`);
  assert.equal(line.moved, join(dropDir(), 'refused', moved!));
  assert.deepEqual((await readdir(dropDir())).filter((f) => f === name), [], 'and gone from the directory');
  return readFile(join(dropDir(), 'refused', `${moved}.reason`), 'utf8');
}

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [RAW] } } });
  const gateway = `${gatewayYaml(broker.url, 'gw-drop-in', { logLevel: 'info' })}plugins:\n  require_signed: true\n  trusted_keys: [./vendor.pub]\n  drop_in: ./drop-in\n`;
  fixture = await writeGatewayFixture(gateway, pipeline(plc.port));
  vendor = await writeKey(fixture.dir, 'vendor');
  await mkdir(pkgDir());
  unsignedFile = await writePackage(pkgDir(), { name: 'scale', version: '0.4.0' });
  subscriber = await subscribe(broker.url, 'scaled/#');
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine(event('gateway.started'), 'gateway started', 30_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('a drop-in directory missing at start is said, and watched once it exists; the gateway runs meanwhile', gate, async () => {
  const missing = JSON.parse(await daemon.waitForLine(event('dropin.unavailable'), 'the missing directory said', 20_000)) as Record<string, unknown>;
  assert.equal(missing.dir, dropDir());
  assert.equal(missing.reason, 'it does not exist');
  await subscriber.waitUntil((m) => m.some((x) => x.topic === 'scaled/level'), 'the pipeline publishing without it', 20_000);
  const watching = nextLine(event('dropin.watching'), 'the directory watched');
  await mkdir(dropDir());
  assert.equal((await watching()).dir, dropDir());
  assert.deepEqual((await readdir(dropDir())).sort(), ['installed', 'refused']);
});

test('a signed package renamed into place goes live through the install path and is moved to installed/', gate, async () => {
  assert.equal(await scaleVersion(), '0.1.0');
  const installed = nextLine(event('plugin.installed', '"via":"drop-in"'), 'the install logged as an install');
  const moved = nextLine(event('dropin.installed', '"version":"0.2.0"'), 'the drop-in outcome');
  await dropRenamed(await writePackage(pkgDir(), { name: 'scale', version: '0.2.0', key: vendor }), 'scale-0.2.0.wgp');
  const line = await installed();
  assert.deepEqual([line.plugin, line.version, line.previous, line.pipelines], ['scale', '0.2.0', null, ['scaled']]);
  await moved();
  assert.equal(await scaleVersion(), '0.2.0');
  const [file] = await outcomes('installed', 'scale-0.2.0.wgp');
  assert.match(await readFile(join(dropDir(), 'installed', `${file}.txt`), 'utf8'), /^\S+ installed scale 0\.2\.0 \(before: none in the registry\); pipelines running it: scaled\n$/);
  const since = subscriber.messages.length;
  await subscriber.waitUntil((m) => m.slice(since).some((x) => /"value":42\b/.test(x.payload.toString())), 'scaled values from the new version', 20_000);
});

test('the same file dropped twice: the second changes nothing and is moved to installed/ beside the first, not over it', gate, async () => {
  const moved = nextLine(event('dropin.installed', '"status":"already-active"'), 'the second copy');
  await dropRenamed(join(pkgDir(), 'scale-0.2.0.wgp'), 'scale-0.2.0.wgp');
  await moved();
  const files = await outcomes('installed', 'scale-0.2.0.wgp');
  assert.equal(files.length, 2, files.join(', '));
  assert.match(await readFile(join(dropDir(), 'installed', `${files[1]}.txt`), 'utf8'), /scale 0\.2\.0 is the active version already: nothing changed/);
});

test('a half-written copy is waited for, never refused or installed half: the rest arrives and it goes live', gate, async () => {
  const whole = await readFile(await writePackage(pkgDir(), { name: 'scale', version: '0.3.0', key: vendor }));
  const target = join(dropDir(), 'scale-0.3.0.wgp');
  const incomplete = nextLine(event('dropin.incomplete', 'scale-0.3.0.wgp'), 'the half file seen as cut short');
  const installed = nextLine(event('dropin.installed', '"version":"0.3.0"'), 'the whole file installed');
  // Written in place (no rename), as a slow `cp` or a USB stick would: first half, a pause, the rest.
  const half = Math.floor(whole.length / 2 / 512) * 512 + 100;
  await writeFile(target, whole.subarray(0, half));
  await incomplete();
  assert.equal(await scaleVersion(), '0.2.0', 'nothing went live from half a file');
  await appendFile(target, whole.subarray(half));
  await installed();
  assert.equal(await scaleVersion(), '0.3.0');
  assert.deepEqual(await outcomes('refused', 'scale-0.3.0.wgp'), []);
});

test('garbage bytes are refused with a reason, the running version untouched', gate, async () => {
  const reason = await refusedWith('junk.wgp', () => writeFile(join(dropDir(), 'junk.wgp'), Buffer.from('MZ\x90\x00 this is not a package at all\n'.repeat(40))));
  assert.match(reason, /^\S+ refused: WG_ERR_DROPIN_REFUSED\n.*does not start like a plugin package/);
  assert.equal(await scaleVersion(), '0.3.0');
});

test('an unsigned package and a tampered one are refused by the install\'s own checks, each with its code', gate, async () => {
  const unsigned = await refusedWith('scale-0.4.0-unsigned.wgp', () => dropRenamed(unsignedFile, 'scale-0.4.0-unsigned.wgp'));
  assert.match(unsigned, /refused: WG_ERR_PACKAGE_UNSIGNED\n.*has no signature and plugins\.require_signed is true/);
  const good = parsePackage(await readFile(await writePackage(pkgDir(), { name: 'scale', version: '0.4.0', key: vendor })), 'good.wgp');
  const module = Buffer.from(good.module);
  module[module.length - 1] ^= 1;
  const tampered = join(pkgDir(), 'tampered.wgp');
  await writeFile(tampered, encodePackage({ manifestBytes: good.manifestBytes, module, signature: good.signature }));
  const reason = await refusedWith('tampered.wgp', () => dropRenamed(tampered, 'tampered.wgp'));
  assert.match(reason, /refused: WG_ERR_PACKAGE_TAMPERED\n.*the module's sha256 is/);
  assert.equal(await scaleVersion(), '0.3.0');
});

test('a symbolic link out of the directory is refused, never followed: its target stays where it is, uninstalled', gate, async () => {
  const outside = await writePackage(pkgDir(), { name: 'scale', version: '0.5.0', key: vendor });
  const before = await readFile(outside);
  const reason = await refusedWith('link.wgp', () => symlink(outside, join(dropDir(), 'link.wgp')));
  assert.match(reason, /refused: WG_ERR_DROPIN_REFUSED\na symbolic link; a link is never followed/);
  assert.deepEqual(await readFile(outside), before, 'the target is untouched');
  assert.equal(await scaleVersion(), '0.3.0', 'the valid package it points at was not installed');
});

test('a flood of files is taken a bounded number per look, counted, and every one gets its outcome; temp names are left alone', gate, async () => {
  await writeFile(join(dropDir(), '.hidden.wgp'), 'a dotfile');
  await writeFile(join(dropDir(), 'copying.wgp.part'), 'a temp name');
  const flood = nextLine(event('dropin.flood'), 'the flood said');
  const N = 100;
  await Promise.all(Array.from({ length: N }, (_, i) => writeFile(join(dropDir(), `flood-${String(i).padStart(3, '0')}.wgp`), `garbage ${i}\n`.repeat(50))));
  const said = await flood();
  assert.equal(said.limit, 32);
  assert.ok(Number(said.waiting) > 0 && Number(said.waiting) <= N - 32, `waiting ${said.waiting}`);
  await waitFor(() => daemon.lines.filter(event('dropin.refused', '"plugin":"flood-')).length === N, 60_000, () => `${daemon.lines.filter(event('dropin.refused', 'flood-')).length} of ${N} refused`);
  const reasons = (await readdir(join(dropDir(), 'refused'))).filter((f) => /-flood-\d{3}\.wgp\.reason$/.test(f));
  assert.equal(reasons.length, N);
  assert.deepEqual((await readdir(dropDir())).sort(), ['.hidden.wgp', 'copying.wgp.part', 'installed', 'refused']);
  const s = await status();
  assert.equal(s.pipelines[0]!.state, 'running');
  assert.equal(s.pipelines[0]!.steps[1]!.version, '0.3.0');
  // Counted in status: 3 installed before (0.2.0, its second copy, 0.3.0); refused: junk, unsigned, tampered, link, and the flood.
  const d = s.dropIn!;
  assert.deepEqual([d.dir, d.watching, d.installed, d.refused, d.moveFailed], [dropDir(), true, 3, N + 4, 0]);
  assert.ok(d.deferred >= Number(said.waiting), `deferred ${d.deferred}`);
  const text = await runWasmgate(['status', '--config', fixture.gatewayFile]);
  const line = text.stdout.split('\n').find((l) => l.startsWith('drop-in '));
  assert.match(line ?? '', new RegExp(`: watching; 3 installed, ${N + 4} refused, \\d+ deferred, 0 not moved$`));
  assert.ok(line!.startsWith(`drop-in ${dropDir()}: `), line);
});

test('a copy cut short and never completed (a stick pulled out) is waited for, then refused as cut short', gate, async () => {
  const whole = await readFile(join(pkgDir(), 'scale-0.5.0.wgp'));
  const incomplete = nextLine(event('dropin.incomplete', 'yanked.wgp'), 'the cut file seen as incomplete');
  // INCOMPLETE_MS (30 s) of waiting for the rest, then the install's own refusal.
  const reason = await refusedWith('yanked.wgp', async () => {
    await writeFile(join(dropDir(), 'yanked.wgp'), whole.subarray(0, 1024 + 300));
    await incomplete();
  }, 90_000);
  assert.match(reason, /refused: WG_ERR_PACKAGE_FORMAT\n.* is not a wasmgate plugin package: (member \S+ is cut short|the archive has no end)/);
  assert.equal(await scaleVersion(), '0.3.0');
});

test('a drop-in directory on a read-only file system at start is said, and used once it can be written', gate, async (t) => {
  const fs = mountSmallFileSystem(4 * 1024 * 1024);
  if (typeof fs === 'string') return t.skip(fs);
  const dir = await writeGatewayFixture(`${gatewayYaml(broker.url, 'gw-drop-in-ro', { logLevel: 'info' })}plugins:\n  require_signed: false\n  drop_in: ${fs.path}\n`, pipeline(plc.port));
  let second: GatewayProcess | undefined;
  try {
    fs.remount('ro');
    second = startGatewayProcess(dir.gatewayFile);
    const line = JSON.parse(await second.waitForLine(event('dropin.unavailable'), 'the read-only directory said', 30_000)) as Record<string, unknown>;
    assert.match(String(line.reason), /EROFS/);
    fs.remount('rw');
    await second.waitForLine(event('dropin.watching'), 'watched once writable', 30_000);
    await copyFile(unsignedFile, join(fs.path, 'scale.wgp'));
    await second.waitForLine(event('dropin.installed', '"version":"0.4.0"'), 'a package installed from it', 30_000);
    assert.equal((await readdir(join(fs.path, 'installed'))).filter((f) => f.endsWith('-scale.wgp')).length, 1);
  } finally {
    await second?.stop();
    fs.unmount();
    await dir.dispose();
  }
});
