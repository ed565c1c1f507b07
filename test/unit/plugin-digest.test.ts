// The cross-architecture check (docs/cross-architecture.md): every built plugin, run on the fixed-seed
// vectors of test/support/plugin-digest.ts (every Modbus type in every word order, ±0, subnormals, the
// extremes, ±Infinity, NaNs of either sign with and without payload), gives output bytes whose SHA-256
// equals the reference committed in test/fixtures/plugin-digest.json. A processor whose NaNs, rounding or
// byte order differ fails here; so does a change of any plugin's output, which must then be deliberate
// (regenerate the reference as the doc says, and say why in the commit).
import test from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { listPluginDirs } from '../../src/host/plugin-build/build.js';
import { pluginDigests, readReference } from '../support/plugin-digest.js';

test('every built plugin gives the reference digest on the cross-architecture vectors', async () => {
  const reference = readReference();
  const digests = await pluginDigests();
  const names = (await listPluginDirs()).map((d) => basename(d)).sort();
  assert.deepEqual(Object.keys(digests).sort(), names, 'a digest for every plugin folder');
  assert.deepEqual(Object.keys(reference).sort(), names, 'a reference for every plugin folder');
  for (const name of names) {
    assert.ok(digests[name]!.calls > 0 && digests[name]!.bytes > 0, `${name} produced output`);
    assert.equal(digests[name]!.sha256, reference[name]!.sha256, `${name}: output bytes differ from the reference (${process.arch})`);
  }
});
