/**
 * What loading `serialport` costs a gateway process, and that the serial transport does not pay it
 * until a port opens (docs/serial.md). Each variant runs in fresh processes (a module loads once per
 * process), five times, and the median is reported: import time and the RSS it adds. Baselines in the
 * same run: a builtin module, and importing the serial transport's module without opening a port.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emitResult, printMachine } from './machine.js';

const RUNS = 5;
const serialJs = fileURLToPath(new URL('../src/hal/serial.js', import.meta.url));

const variants = {
  'import serialport': `await import('serialport')`,
  'import src/hal/serial.js (no port opened)': `await import(${JSON.stringify(serialJs)})`,
  'import a builtin (node:os), baseline': `await import('node:os')`,
} as const;

function measure(statement: string): { ms: number; rssMiB: number } {
  const script = `
    globalThis.gc();
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    ${statement};
    const ms = performance.now() - t0;
    globalThis.gc();
    console.log(JSON.stringify({ ms, rssMiB: (process.memoryUsage().rss - rss0) / 2 ** 20 }));`;
  // Run from the bench directory, so `serialport` resolves from this package's node_modules.
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  return JSON.parse(out) as { ms: number; rssMiB: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

printMachine();
for (const [name, statement] of Object.entries(variants)) {
  const runs = Array.from({ length: RUNS }, () => measure(statement));
  emitResult(`${name}: time`, median(runs.map((r) => r.ms)), 'ms');
  emitResult(`${name}: RSS added`, median(runs.map((r) => r.rssMiB)), 'MiB');
}
