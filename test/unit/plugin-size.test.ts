// Every plugin folder's built module stays within the brief's budget (each plugin <= 16 KB; the one
// exception, bacnet's protocol stack, and its reason are in test/support/plugins.ts). One test
// over all of them, so a plugin added later is covered without a line of its own; the bench
// (bench/plugin-size.bench.ts) prints the sizes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listPluginDirs, wasmPathOf } from '../../src/host/plugin-build/build.js';
import { PLUGIN_BUDGET, pluginBudget } from '../support/plugins.js';

test('every built plugin module is at most 16384 bytes (bacnet: 24576)', async () => {
  const dirs = await listPluginDirs();
  assert.ok(dirs.length > 0, 'plugins/ has plugin folders');
  const over: string[] = [];
  for (const dir of dirs) {
    const wasm = wasmPathOf(dir);
    assert.ok(existsSync(wasm), `${basename(dir)} is built (${wasm}); npm test builds every plugin first`);
    const bytes = statSync(wasm).size;
    if (bytes > pluginBudget(basename(dir))) over.push(`${basename(wasm)}: ${bytes} bytes, over ${pluginBudget(basename(dir))}`);
    // Tool modules (tools/<tool>.ts, as bacnet's scan codec) are built beside it and held to the same budget.
    for (const file of readdirSync(join(dir, 'build')).filter((f) => f.endsWith('.wasm') && join(dir, 'build', f) !== wasm)) {
      const size = statSync(join(dir, 'build', file)).size;
      if (size > PLUGIN_BUDGET) over.push(`${basename(dir)}/build/${file}: ${size} bytes`);
    }
  }
  assert.deepEqual(over, [], `over the budget (${PLUGIN_BUDGET} bytes, or the exception's)`);
});
