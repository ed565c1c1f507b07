/**
 * What every benchmark prints: the machine first, then each figure twice, once for people and once as
 * a `BENCH {json}` line that a script can collect into the README table.
 */
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';

/**
 * Prints OS, architecture, CPU model, core count, memory, Node version, and the load average: a figure
 * taken while other work shares the cores is not comparable with one taken on an idle machine.
 */
export function printMachine(): void {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`System: ${platform()} ${release()} ${arch()}`);
  console.log(`CPU: ${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
  console.log(`Node: ${process.version} (V8 ${process.versions.v8})`);
  console.log(`Load average (1 min): ${loadavg()[0]!.toFixed(2)}`);
  console.log('');
}

/**
 * Prints one figure: a human line, then `BENCH {"name":...,"value":...,"unit":...,"target":...}`.
 * @param target what the brief asks for, as text (for example ">= 50 M records/s").
 */
export function emitResult(name: string, value: number, unit: string, target?: string): void {
  const shown = value >= 100 ? value.toFixed(0) : value.toPrecision(3);
  console.log(`${name}: ${shown} ${unit}${target === undefined ? '' : `  (target ${target})`}`);
  console.log(`BENCH ${JSON.stringify({ name, value, unit, target })}`);
}
