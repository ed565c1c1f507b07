// `wasmgate plugin new` writes a plugin that builds, passes the ABI check and its manifest check, and
// whose generated test passes — for each kind.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/host/plugin-build/build.js';
import { loadPluginManifest } from '../../src/host/config/index.js';
import { v8Engine } from '../../src/host/engine/engine.js';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../support/plugins.js';

for (const kind of ['transform', 'decoder', 'encoder'] as const) {
  test(`plugin new --kind ${kind}: builds, checks, and its own test passes`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmgate-new-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const name = `my-${kind}`;
    const target = join(dir, name);
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/wasmgate.js'), 'plugin', 'new', name, '--kind', kind, '--dir', target], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr + cli.stdout);
    assert.match(cli.stdout, new RegExp(`created ${kind} plugin ${name}`));

    const built = await buildPlugin(target);
    const compiled = v8Engine.compile(readFileSync(built.wasm), name, built.wasm, 1);
    assert.equal(compiled.facts.polling, kind === 'decoder', 'a decoder template is a polled decoder');

    const manifest = await loadPluginManifest(target);
    assert.ok(manifest.ok, manifest.ok ? '' : JSON.stringify(manifest.problems));
    assert.equal(manifest.plugin.manifest.kind, kind);

    // A child of the test runner inherits NODE_TEST_CONTEXT and would report to it instead of stdout.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(target, `${name}.test.mjs`)], { encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /# fail 0/);
  });
}

test('plugin new refuses a bad name and an existing folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-new-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin/wasmgate.js'), 'plugin', 'new', ...args], { encoding: 'utf8' });
  const bad = run('My_Plugin', '--kind', 'transform', '--dir', join(dir, 'x'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /lower-case letters/);
  const noKind = run('ok-name', '--dir', join(dir, 'y'));
  assert.equal(noKind.status, 2);
  assert.equal(run('twice', '--kind', 'encoder', '--dir', join(dir, 'z')).status, 0);
  const again = run('twice', '--kind', 'encoder', '--dir', join(dir, 'z'));
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists already/);
});
