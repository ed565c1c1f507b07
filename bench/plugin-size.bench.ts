/** Size of every built plugin module (target: each <= 8 KB = 8192 bytes). */
import { statSync } from 'node:fs';
import { listPluginDirs, wasmPathOf } from '../src/host/plugin-build/build.js';
import { emitResult, printMachine } from './machine.js';

printMachine();
for (const dir of await listPluginDirs()) {
  const wasm = wasmPathOf(dir);
  const name = dir.split('/').pop()!;
  emitResult(`${name}.wasm size`, statSync(wasm).size, 'bytes', '<= 8192 bytes');
}
