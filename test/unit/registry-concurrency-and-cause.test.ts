/**
 * Gaps a review of the registry found, each on real files and each failing without its fix:
 * - two installs at once (the daemon and `plugin install --offline`, or two offline ones) both read
 *   the index, and the one that committed last wrote back an index without the other's version: the
 *   registry's lock makes the second wait; a lock left by a killed process is taken over;
 * - a version the crash-loop guard rolled back away from was accepted again as a plain upgrade: it is
 *   recorded, refused (WG_ERR_PACKAGE_ROLLED_BACK), and installed only with force, which is recorded;
 * - a rollback went back to a version whose signing key was removed from trusted_keys since: the
 *   target is checked against the trust settings as they are now (WG_ERR_ROLLBACK_UNTRUSTED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPackage, rollbackPlugin, type InstallContext } from '../../src/host/packages/package-install.js';
import type { ResolvedPluginSettings } from '../../src/host/packages/package-settings.js';
import { PluginRegistry } from '../../src/host/packages/plugin-registry.js';
import { LOCK_FILE } from '../../src/host/packages/registry-lock.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';

const CHILD = fileURLToPath(new URL('../support/registry-lock-child.js', import.meta.url));

async function inTemp(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-registry-gaps-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const trusting = (...keys: TestKey[]): ResolvedPluginSettings => ({
  requireSigned: true, trustedKeys: keys.map((k) => ({ file: k.publicFile, pem: k.publicPem, keyId: k.keyId })), grant: ['log', 'now'], dropIn: null,
});
const contextOf = (registry: PluginRegistry, settings: ResolvedPluginSettings): InstallContext => ({ registry, settings, goLive: async () => [] });
const versions = async (registry: PluginRegistry, name: string) => {
  const e = (await registry.read()).plugins[name];
  return e ? [e.active.version, ...e.previous.map((v) => v.version)] : [];
};

test('two installs into one registry at once: the second waits for the first\'s lock, and the index keeps both versions', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const older = await writePackage(dir, { name: 'scale', version: '0.2.0', key });
  const newer = await writePackage(dir, { name: 'scale', version: '0.3.0', key });
  const data = join(dir, 'data');
  // The first install stops after storing its version (it has read the index) until the second has
  // either reached the same stage (no lock: the race) or been made to wait for the lock.
  let letFirstGo!: () => void;
  const secondArrived = new Promise<void>((resolve) => (letFirstGo = resolve));
  let firstInside!: () => void;
  const firstStored = new Promise<void>((resolve) => (firstInside = resolve));
  const first = new PluginRegistry(data, { faults: async (stage) => { if (stage === 'store-written') { firstInside(); await secondArrived; } } });
  const second = new PluginRegistry(data, { faults: (stage) => { if (stage === 'store-written') letFirstGo(); }, lock: { onWait: () => letFirstGo() } });
  const a = installPackage({ file: older }, contextOf(first, trusting(key)));
  // The second starts once the first has read the index and stored its version (holding the lock, if any).
  await firstStored;
  const b = installPackage({ file: newer }, contextOf(second, trusting(key)));
  const [x, y] = await Promise.all([a, b]);
  assert.deepEqual([x.status, y.status], ['installed', 'installed']);
  assert.deepEqual(await versions(second, 'scale'), ['0.3.0', '0.2.0'], 'neither install lost');
  await assert.rejects(stat(join(data, 'plugins', LOCK_FILE)), { code: 'ENOENT' }, 'the lock is gone once both are done');
}));

test('a lock left by a process killed while it held it is taken over, saying so', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const data = join(dir, 'data');
  const registryDir = join(data, 'plugins');
  const child = spawnSync(process.execPath, [CHILD, registryDir], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const left = JSON.parse(await readFile(join(registryDir, LOCK_FILE), 'utf8')) as { pid: number; what: string };
  assert.equal(left.pid, child.pid, 'the killed process left its lock');
  const stale: number[] = [];
  const registry = new PluginRegistry(data, { lock: { onStale: (holder) => stale.push(holder!.pid), waitMs: 5_000 } });
  const done = await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key }) }, contextOf(registry, trusting(key)));
  assert.equal(done.status, 'installed');
  assert.deepEqual(stale, [child.pid]);
}));

test('a lock left by an earlier run under this very pid (pid 1 in a container, a boot that hands out the same pids) is taken over, not waited for', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const data = join(dir, 'data');
  const registryDir = join(data, 'plugins');
  await mkdir(registryDir, { recursive: true });
  // What a daemon killed during an install leaves, when the daemon after it got the same pid.
  await writeFile(join(registryDir, LOCK_FILE), `${JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', what: 'plugin install' })}\n`);
  const stale: number[] = [];
  const registry = new PluginRegistry(data, { lock: { onStale: (holder) => stale.push(holder!.pid), waitMs: 1_000 } });
  const done = await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key }) }, contextOf(registry, trusting(key)));
  assert.equal(done.status, 'installed');
  assert.deepEqual(stale, [process.pid]);
}));

test('a lock held by a live process is waited for, and refused after the wait naming the holder', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const data = join(dir, 'data');
  const holder = new PluginRegistry(data);
  let release!: () => void;
  const held = holder.exclusive('plugin install', () => new Promise<void>((resolve) => (release = resolve)));
  await new Promise((resolve) => setImmediate(resolve));
  // The holder is this very process: alive, so never stale.
  const waiting = new PluginRegistry(data, { lock: { waitMs: 200 } });
  await assert.rejects(installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key }) }, contextOf(waiting, trusting(key))),
    (e: Error & { code?: string }) => e.code === 'WG_ERR_REGISTRY_LOCKED' && new RegExp(`held by process ${process.pid} on .* \\(plugin install, since `).test(e.message));
  release();
  await held;
  assert.deepEqual(await versions(holder, 'scale'), [], 'nothing was installed past the lock');
}));

test('a version the crash-loop guard rolled back is refused when installed again, and installed with force, which is recorded', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const registry = new PluginRegistry(join(dir, 'data'));
  const context = contextOf(registry, trusting(key));
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key }) }, context);
  const bad = await writePackage(dir, { name: 'scale', version: '0.3.0', key });
  await installPackage({ file: bad }, context);
  const active = (await registry.read()).plugins.scale!.active;
  const cause = { reason: 'trapped more than 3 times within 30 s after the swap', pipeline: 'plant', from: { version: '0.3.0', sha256: active.sha256 } };
  const back = await rollbackPlugin('scale', '0.2.0', context, cause);
  assert.deepEqual([back.from, back.to], ['0.3.0', '0.2.0']);
  const index = await registry.read();
  assert.deepEqual(index.rolledBack?.scale?.map((r) => [r.version, r.pipeline, r.reason]), [['0.3.0', 'plant', cause.reason]]);

  // 0.3.0 is newer than the active 0.2.0: without the record it would pass as an upgrade.
  await assert.rejects(installPackage({ file: bad }, context), (e: Error & { code?: string }) => e.code === 'WG_ERR_PACKAGE_ROLLED_BACK'
    && /plugin scale 0\.3\.0 was rolled back by this gateway for cause \(pipeline plant, .*: trapped more than 3 times.*\): refused; install it again only with --force/.test(e.message));
  assert.deepEqual(await versions(registry, 'scale'), ['0.2.0']);

  const forced = await installPackage({ file: bad }, context, undefined, { force: true });
  assert.equal(forced.status, 'installed');
  assert.equal(forced.forcedOver?.reason, cause.reason);
  const after = await registry.read();
  assert.equal(after.plugins.scale!.active.forcedOver?.version, '0.3.0', 'the forced install is recorded on the version');
  assert.equal(after.rolledBack, undefined, 'and the record of the rollback moved onto it');
}));

test('the guard\'s rollback arriving after another install changes nothing', () => inTemp(async (dir) => {
  const key = await writeKey(dir, 'vendor');
  const registry = new PluginRegistry(join(dir, 'data'));
  const context = contextOf(registry, trusting(key));
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key }) }, context);
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.3.0', key }) }, context);
  const was = (await registry.read()).plugins.scale!.active;
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.4.0', key }) }, context);
  await assert.rejects(rollbackPlugin('scale', '0.3.0', context, { reason: 'late', pipeline: 'plant', from: { version: was.version, sha256: was.sha256 } }), { code: 'WG_ERR_ROLLBACK_NONE' });
  assert.deepEqual(await versions(registry, 'scale'), ['0.4.0', '0.3.0', '0.2.0']);
}));

test('a rollback to a version signed only by a key removed from trusted_keys since is refused; one the current keys trust goes through', () => inTemp(async (dir) => {
  const revoked = await writeKey(dir, 'revoked');
  const current = await writeKey(dir, 'current');
  const registry = new PluginRegistry(join(dir, 'data'));
  const both = contextOf(registry, trusting(revoked, current));
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.0', key: revoked }) }, both);
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.2.5', key: current }) }, both);
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.3.0', key: current }) }, both);
  const now = contextOf(registry, trusting(current));
  await assert.rejects(rollbackPlugin('scale', '0.2.0', now), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'WG_ERR_ROLLBACK_UNTRUSTED'
    && e.context?.refusedWith === 'WG_ERR_PACKAGE_UNTRUSTED_KEY' && new RegExp(`cannot be rolled back to 0\\.2\\.0: .*signed by key ${revoked.keyId}, which this gateway does not trust`).test(e.message));
  assert.deepEqual(await versions(registry, 'scale'), ['0.3.0', '0.2.5', '0.2.0'], 'the refused rollback changed nothing');
  const back = await rollbackPlugin('scale', undefined, now);
  assert.equal(back.to, '0.2.5');
  // Unsigned when installed under require_signed: false; refused as the target once it is true.
  const lax = contextOf(registry, { ...trusting(current), requireSigned: false });
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.4.0' }) }, lax);
  await installPackage({ file: await writePackage(dir, { name: 'scale', version: '0.5.0', key: current }) }, lax);
  await assert.rejects(rollbackPlugin('scale', '0.4.0', now), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'WG_ERR_ROLLBACK_UNTRUSTED' && e.context?.refusedWith === 'WG_ERR_PACKAGE_UNSIGNED');
}));
