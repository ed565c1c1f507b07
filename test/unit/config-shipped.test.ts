/**
 * Shipped configurations are fixtures: every gateway file in config/ passes `wasmgate validate`, and
 * every pipeline file in pipelines/ is used by one of them (so it is validated too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runValidate } from '../../src/host/cli/validate.js';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { REPO_ROOT } from './config-workspace.js';

async function yamlFiles(dir: string): Promise<string[]> {
  const names = await readdir(join(REPO_ROOT, dir)).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).map((n) => join(REPO_ROOT, dir, n));
}

test('every gateway file in config/ is valid, and every file in pipelines/ is used by one', async () => {
  const used = new Set<string>();
  for (const file of await yamlFiles('config')) {
    const lines: string[] = [];
    assert.equal(await runValidate({ config: file }, (line) => lines.push(line)), 0, lines.join('\n'));
    const result = await loadGatewayConfig(file);
    if (result.ok) for (const p of result.config.pipelines) used.add(p.file);
  }
  for (const file of await yamlFiles('pipelines')) assert.ok(used.has(file), `${file} is not listed by any gateway file in config/`);
});

test('the meters example is ten meters of one nine-point profile, on one bus', async () => {
  const result = await loadGatewayConfig(join(REPO_ROOT, 'config/meters.yaml'));
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  const [pipeline] = result.config.pipelines;
  assert.equal(pipeline!.source.links.length, 1);
  assert.deepEqual(pipeline!.source.links[0]!.devices, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(pipeline!.source.devices.map((d) => d.unitId), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(pipeline!.points.length, 10 * 9);
});
