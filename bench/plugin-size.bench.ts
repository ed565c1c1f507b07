/**
 * Size of every built plugin module (target: each <= 16 KB = 16384 bytes; bacnet, a protocol stack, 24 KB:
 * test/support/plugins.ts says why). The budget leaves room for
 * readable code; the bench keeps each module's growth visible.
 */
import { statSync } from 'node:fs';
import { listPluginDirs, wasmPathOf } from '../src/host/plugin-build/build.js';
import { emitResult, printMachine } from './machine.js';
import { pluginBudget } from '../test/support/plugins.js';

printMachine();
for (const dir of await listPluginDirs()) {
  const wasm = wasmPathOf(dir);
  const name = dir.split('/').pop()!;
  emitResult(`${name}.wasm size`, statSync(wasm).size, 'bytes', `<= ${pluginBudget(name)} bytes`);
}
