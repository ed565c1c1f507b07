/**
 * The plugin registry on real files: what it keeps (the active version and two before it), rollback,
 * damage found rather than run, and an install killed at every stage of its write. A kill is not a
 * power cut (the page cache survives it), so what this shows is the order of the writes: at every
 * point the files on disk make a whole registry, the old one or the new one; the fsyncs between the
 * stages are what carry that order through a power cut (durable-file.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { PluginRegistry } from '../../src/host/packages/plugin-registry.js';
import { readPackageFile } from '../../src/host/packages/plugin-package.js';
import { writePackage } from '../support/plugin-packages.js';
import { builtPluginPath } from '../support/plugins.js';

const CHILD = fileURLToPath(new URL('../support/registry-install-child.js', import.meta.url));
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function inTemp(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-registry-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the active version and the two before it are kept, on disk and in the index; rollback goes back one at a time', () => inTemp(async (dir) => {
  const registry = new PluginRegistry(join(dir, 'data'));
  // Each install settled as package-install.ts settles it once live: recordPipelines, which prunes.
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.4.0']) {
    await registry.install(await readPackageFile(await writePackage(dir, { name: 'scale', version: v })), null);
    await registry.recordPipelines('scale', ['plant']);
  }
  let entry = (await registry.read()).plugins.scale!;
  assert.deepEqual([entry.active.version, ...entry.previous.map((v) => v.version)], ['0.4.0', '0.3.0', '0.2.0']);
  assert.deepEqual((await readdir(join(dir, 'data', 'plugins', 'scale'))).map((d) => d.split('-')[0]).sort(), ['0.2.0', '0.3.0', '0.4.0']);
  const active = (await registry.active('scale'))!;
  assert.equal(active.version, '0.4.0');
  assert.equal(sha(await readFile(active.wasmPath)), sha(await readFile(builtPluginPath('scale'))));
  assert.match(await readFile(active.manifestFile, 'utf8'), /^version: 0\.4\.0$/m);

  assert.deepEqual((await registry.rollback('scale')).to, '0.3.0');
  entry = (await registry.read()).plugins.scale!;
  assert.deepEqual([entry.active.version, ...entry.previous.map((v) => v.version)], ['0.3.0', '0.2.0'], 'the version rolled back from is dropped');
  await assert.rejects(registry.rollback('scale', '0.1.0'), (e: Error & { code?: string }) => e.code === 'WG_ERR_ROLLBACK_NONE' && /kept 0\.2\.0/.test(e.message));
  assert.equal((await registry.rollback('scale', '0.2.0')).to, '0.2.0');
  assert.equal((await registry.rollback('scale')).to, null, 'nothing kept before 0.2.0: the plugin leaves the registry');
  assert.deepEqual((await registry.read()).plugins, {});
  await registry.recordPipelines('scale', []);
  assert.deepEqual(await readdir(join(dir, 'data', 'plugins')), ['registry.json'], 'its stored versions are removed');
  await assert.rejects(registry.rollback('scale'), { code: 'WG_ERR_ROLLBACK_NONE' });
}));

// Regression: pruning at the commit removed the version an install pushed out (or a rollback left),
// so restoring the index after a failed reload named files that were gone.
test('an install or a rollback undone (restore) finds every version it names still stored', () => inTemp(async (dir) => {
  const registry = new PluginRegistry(join(dir, 'data'));
  for (const v of ['0.1.0', '0.2.0', '0.3.0']) {
    await registry.install(await readPackageFile(await writePackage(dir, { name: 'scale', version: v })), null);
    await registry.recordPipelines('scale', []);
  }
  const before = await registry.install(await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.4.0' })), null);
  await registry.restore(before);
  const rolled = await registry.rollback('scale');
  await registry.restore(rolled.before);
  const entry = (await registry.read()).plugins.scale!;
  assert.deepEqual([entry.active.version, ...entry.previous.map((v) => v.version)], ['0.3.0', '0.2.0', '0.1.0']);
  assert.equal((await registry.active('scale'))!.version, '0.3.0');
  for (const v of entry.previous) assert.ok((await readdir(join(dir, 'data', 'plugins', 'scale'))).includes(v.dir), `${v.version} is still stored`);
  assert.equal((await readdir(join(dir, 'data', 'plugins', 'scale'))).length, 3, 'the undone 0.4.0 was removed');
}));

test('a damaged index, or a stored module that changed, is refused, never run', () => inTemp(async (dir) => {
  const registry = new PluginRegistry(join(dir, 'data'));
  await registry.install(await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.2.0' })), null);
  const active = (await registry.active('scale'))!;
  const module = await readFile(active.wasmPath);
  module[module.length - 1] ^= 1;
  await writeFile(active.wasmPath, module);
  await assert.rejects(registry.active('scale'), (e: Error & { code?: string }) => e.code === 'WG_ERR_REGISTRY_DAMAGED' && /no longer has the sha256/.test(e.message));
  await writeFile(registry.indexFile, '{"format":1,"plugins":{"scale":{"active":{"version":"1","sha256":"00","dir":"../../etc","pipelines":[]},"previous":[]}}}');
  await assert.rejects(registry.read(), (e: Error & { code?: string }) => e.code === 'WG_ERR_REGISTRY_DAMAGED' && /version entry that is not one/.test(e.message));
  await writeFile(registry.indexFile, '{"format":1,');
  await assert.rejects(registry.read(), { code: 'WG_ERR_REGISTRY_DAMAGED' });
}));

test('an install killed at any stage of its write leaves the old registry or the new one, whole', () => inTemp(async (dir) => {
  const old = await writePackage(dir, { name: 'scale', version: '0.1.0' });
  const fresh = await writePackage(dir, { name: 'scale', version: '0.2.0' });
  const stages: [string, string][] = [['store-written', '0.1.0'], ['index-written', '0.1.0'], ['index-renamed', '0.2.0'], ['committed', '0.2.0']];
  for (const [stage, expected] of stages) {
    const dataDir = join(dir, `data-${stage}`);
    await new PluginRegistry(dataDir).install(await readPackageFile(old), null);
    const child = spawnSync(process.execPath, [CHILD, dataDir, fresh, stage], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', `killed at ${stage}: ${child.stderr}`);
    assert.equal(child.stdout, '', 'it did not get to the end');

    const after = new PluginRegistry(dataDir);
    const active = (await after.active('scale'))!;
    assert.equal(active.version, expected, `after a kill at ${stage}`);
    assert.match(await readFile(active.manifestFile, 'utf8'), new RegExp(`^version: ${expected.replace(/\./g, '\\.')}$`, 'm'));
    const previous = (await after.read()).plugins.scale!.previous.map((v) => v.version);
    assert.deepEqual(previous, expected === '0.1.0' ? [] : ['0.1.0']);

    // The next install goes through and, once settled, leaves nothing of the interrupted one behind.
    await after.install(await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.3.0' })), null);
    await after.recordPipelines('scale', []);
    const leftovers = [...(await readdir(join(dataDir, 'plugins'))), ...(await readdir(join(dataDir, 'plugins', 'scale')))].filter((n) => n.endsWith('.new'));
    assert.deepEqual(leftovers, [], `after a kill at ${stage}`);
  }
}));
