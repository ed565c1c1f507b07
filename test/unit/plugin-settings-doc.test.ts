// docs/plugin-settings.md is generated from the plugin manifests; it must not go stale.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
