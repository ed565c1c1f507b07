/**
 * `wasmgate plugin install --offline` as separate processes on one data directory, where before two at
 * once could each read the index and the later commit drop the other's version: the registry's lock
 * (src/host/packages/registry-lock.ts) makes one wait for the other, says so, and takes over a lock a
 * killed process left behind. The interleaving itself is forced in test/unit/registry-concurrency-and-
 * cause.test.ts; here the real command runs twice at once, and against a lock held by another process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginListing } from '../../src/host/packages/plugin-listing.js';
import { LOCK_FILE, withRegistryLock } from '../../src/host/packages/registry-lock.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { waitFor } from '../support/wait.js';

const BIN = fileURLToPath(new URL('../../../bin/wasmgate.js', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/registry-lock-child.js', import.meta.url));
let fixture: GatewayFixture;
let vendor: TestKey;
const registryDir = () => join(fixture.dir, 'data', 'plugins');

function scaledPipeline(): string {
  return onePointPipelineYaml(1).replace('  - plugin: modbus\n', '  - plugin: modbus\n  - plugin: scale\n    with: { points: { level: { factor: 2 } } }\n');
}

const installArgs = (file: string) => ['plugin', 'install', file, '--config', fixture.gatewayFile, '--offline'];

async function kept(): Promise<string[]> {
  const run = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--offline', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const scale = (JSON.parse(run.stdout) as PluginListing).plugins.find((p) => p.name === 'scale');
  return scale ? [scale.active.version, ...scale.previous.map((v) => v.version)] : [];
}

before(async () => {
  // Nothing listens on the control socket: every command works offline.
  fixture = await writeGatewayFixture(`${gatewayYaml('mqtt://127.0.0.1:1', 'gw-lock')}plugins:\n  trusted_keys: [./vendor.pub]\n`, scaledPipeline());
  vendor = await writeKey(fixture.dir, 'vendor');
});

after(() => fixture?.dispose());

test('two offline installs at once go one after the other: the registry keeps every version either installed', async () => {
  const [a, b] = await Promise.all([
    writePackage(fixture.dir, { name: 'scale', version: '0.2.0', key: vendor }),
    writePackage(fixture.dir, { name: 'scale', version: '0.3.0', key: vendor }),
  ]);
  const [ra, rb] = await Promise.all([runWasmgate(installArgs(a)), runWasmgate(installArgs(b))]);
  const installed = [[ra, '0.2.0'], [rb, '0.3.0']].filter(([r]) => (r as { code: number }).code === 0).map(([, v]) => v as string);
  // Whichever went first, 0.3.0 is installed; 0.2.0 either before it, or refused after it as a downgrade.
  assert.ok(installed.includes('0.3.0'), `${ra.stderr}\n${rb.stderr}`);
  if (!installed.includes('0.2.0')) assert.match(ra.stderr, /\[WG_ERR_PACKAGE_DOWNGRADE\]/);
  assert.deepEqual(await kept(), installed.includes('0.2.0') ? ['0.3.0', '0.2.0'] : ['0.3.0']);
});

test('an offline install waits for a lock another running process holds, says whose, and goes on once it is released', async () => {
  const file = await writePackage(fixture.dir, { name: 'scale', version: '0.4.0', key: vendor });
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const lock = withRegistryLock(registryDir(), 'plugin install', () => {
    holding();
    return new Promise<void>((resolve) => (release = resolve));
  });
  await held;
  const before = await kept();
  const child = spawn(process.execPath, [BIN, ...installArgs(file)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waitFor(() => stderr.includes('the registry is locked'), 30_000, () => stderr);
  assert.match(stderr, new RegExp(`the registry is locked by process ${process.pid} on .* \\(plugin install, since .*\\): waiting for it`));
  assert.deepEqual(await kept(), before, 'nothing installed while the lock is held');
  release();
  await lock;
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /^installed scale 0\.4\.0 /);
  assert.equal((await kept())[0], '0.4.0');
});

test('a lock left by a process killed while holding it is taken over by the next offline install, which says so', async () => {
  const killed = spawnSync(process.execPath, [CHILD, registryDir()], { encoding: 'utf8' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.equal((JSON.parse(await readFile(join(registryDir(), LOCK_FILE), 'utf8')) as { pid: number }).pid, killed.pid);
  const run = await runWasmgate(installArgs(await writePackage(fixture.dir, { name: 'scale', version: '0.5.0', key: vendor })));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`took over a stale registry lock .*\\.lock \\(process ${killed.pid}, plugin install, no longer runs\\)`));
  assert.equal((await kept())[0], '0.5.0');
});
