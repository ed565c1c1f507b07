/**
 * What a plugin install costs before it goes live (docs/plugins.md, "Installing"), on real files in a
 * temp directory: checking a signed package (archive, manifest, sha256, ed25519, the module compiled
 * and held to its manifest), committing it to the registry (the version's files and the index, each
 * fsynced, renamed, the directories fsynced), and a rollback's commit. Going live in the daemon is a
 * reload of the pipelines that run the plugin, which gateway.bench.ts's start figure bounds.
 * The built scale plugin is the package's module; each figure is the median of RUNS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginRegistry } from '../src/host/packages/plugin-registry.js';
import { readPackageFile } from '../src/host/packages/plugin-package.js';
import { verifyPackage } from '../src/host/packages/package-verify.js';
import { writeKey, writePackage } from '../test/support/plugin-packages.js';
import { emitResult, printMachine } from './machine.js';

const RUNS = 40;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

printMachine();
const dir = await mkdtemp(join(tmpdir(), 'wasmgate-install-bench-'));
try {
  const key = await writeKey(dir, 'vendor');
  const settings = { requireSigned: true, trustedKeys: [{ file: key.publicFile, pem: key.publicPem, keyId: key.keyId }], grant: ['log', 'now'], dropIn: null };
  const files: string[] = [];
  for (let i = 0; i < RUNS; i++) files.push(await writePackage(dir, { name: 'scale', version: `1.0.${i}`, key }));

  const verify: number[] = [];
  const commit: number[] = [];
  const rollback: number[] = [];
  const registry = new PluginRegistry(join(dir, 'data'));
  for (const file of files) {
    let t = process.hrtime.bigint();
    const pkg = await readPackageFile(file);
    verifyPackage(pkg, settings);
    verify.push(ms(t));
    t = process.hrtime.bigint();
    await registry.install(pkg, key.keyId);
    await registry.recordPipelines('scale', ['plant']);
    commit.push(ms(t));
  }
  for (let i = 0; i < 2; i++) {
    const t = process.hrtime.bigint();
    await registry.rollback('scale');
    await registry.recordPipelines('scale', ['plant']);
    rollback.push(ms(t));
  }
  emitResult('install: check a signed package (read, sha256, ed25519, compile, ABI, kind, imports), median', median(verify), 'ms');
  emitResult('install: registry commit (store, index, fsyncs, prune), median', median(commit), 'ms');
  emitResult('rollback: registry commit, median of 2', median(rollback), 'ms');
} finally {
  await rm(dir, { recursive: true, force: true });
}
