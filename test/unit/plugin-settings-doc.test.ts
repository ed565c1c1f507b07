// docs/plugin-settings.md is generated from the plugin manifests; it must not go stale.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BUILTIN_PLUGINS } from '../../src/host/plugin-build/build.js';
import { newPlugin } from '../../src/host/plugin-build/template.js';
import { renderSettingsReference } from '../../src/host/plugin-build/settings-reference.js';
import { REPO_ROOT } from '../support/plugins.js';

test('docs/plugin-settings.md matches the manifests (regenerate: wasmgate plugin docs)', async () => {
  const committed = readFileSync(join(REPO_ROOT, 'docs', 'plugin-settings.md'), 'utf8');
  assert.equal(committed, await renderSettingsReference(), 'docs/plugin-settings.md is stale: run `node bin/wasmgate.js plugin docs`');
});

test('every built-in plugin and every setting appears in the reference', async () => {
  const text = await renderSettingsReference();
  for (const name of ['modbus', 'scale', 'si', 'outlier', 'deadband', 'resample', 'json']) assert.match(text, new RegExp(`^## ${name}$`, 'm'));
  assert.match(text, /\| `points\.<point name>\.factor` \| number \| `1` \|/);
});

test('the built-in plugins are the plugin folders in git', () => {
  const tracked = execFileSync('git', ['ls-files', 'plugins/*/plugin.yaml'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .trim().split('\n').map((f) => dirname(f).split('/')[1]).sort();
  assert.deepEqual([...BUILTIN_PLUGINS].sort(), tracked);
});

// What broke: following docs/plugins.md in a checkout writes plugins/clamp/, which then entered the
// generated reference, so the staleness test above failed `npm test` for every plugin author.
test('an author\'s plugin folder next to the built-in ones does not enter the reference', async () => {
  const root = await mkdtemp(join(tmpdir(), 'wasmgate-plugins-'));
  try {
    for (const name of BUILTIN_PLUGINS) await cp(join(REPO_ROOT, 'plugins', name, 'plugin.yaml'), join(root, name, 'plugin.yaml'));
    await newPlugin('clamp', 'transform', join(root, 'clamp'));
    const committed = readFileSync(join(REPO_ROOT, 'docs', 'plugin-settings.md'), 'utf8');
    assert.equal(await renderSettingsReference(root), committed);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
