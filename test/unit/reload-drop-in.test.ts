/**
 * `plugins.drop_in` is held by the whole daemon (the watcher starts with it): a reload that changes it
 * is refused naming the setting, like the uplinks, and one that changes only the trusted keys is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { planReload } from '../../src/host/reload/reload-plan.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { writeKey } from '../support/plugin-packages.js';

test('a reload that changes plugins.drop_in needs a restart; one that changes trusted_keys does not', async () => {
  const fixture = await writeGatewayFixture('', onePointPipelineYaml(1));
  try {
    await mkdir(join(fixture.dir, 'data'));
    await writeKey(fixture.dir, 'vendor');
    const load = async (plugins: string) => {
      await writeFile(fixture.gatewayFile, `${gatewayYaml('mqtt://127.0.0.1:1', 'gw-reload')}plugins:\n${plugins}`);
      const loaded = await loadGatewayConfig(fixture.gatewayFile);
      assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
      return loaded.config;
    };
    const first = await load('  drop_in: ./drop-in\n');
    assert.equal(first.plugins.dropIn, join(fixture.dir, 'drop-in'), 'resolved against the gateway file');
    const moved = await load('  drop_in: ./elsewhere\n');
    assert.deepEqual((await planReload(first, moved, new Map())).needsRestart, ['plugins.drop_in']);
    const keys = await load('  drop_in: ./drop-in\n  trusted_keys: [./vendor.pub]\n');
    assert.deepEqual((await planReload(first, keys, new Map())).needsRestart, []);
    const off = await load('  require_signed: true\n');
    assert.equal(off.plugins.dropIn, null, 'off unless set');
  } finally {
    await fixture.dispose();
  }
});
