/**
 * Where a running daemon's memory is, per thread and per module: the kernel's figures for the process
 * (/proc/PID/status: RSS, RssAnon, RssFile), and from the daemon's own status over its control socket
 * the main thread's V8 heap, each pipeline worker's heap (measured inside the worker: Node 20 cannot
 * read another isolate's heap), each plugin instance's linear memory, and the rings. What is left of
 * RssAnon after those is native memory: malloc (OpenSSL, SQLite, libuv), thread stacks, V8's code
 * space and its own bookkeeping.
 */
import { readFile } from 'node:fs/promises';
import { controlRequest } from '../src/host/control/control-client.js';
import type { ControlStatus } from '../src/host/control/gateway-control.js';

const MB = 1024 * 1024;

export interface Breakdown {
  rss: number;
  rssAnon: number;
  rssFile: number;
  peak: number;
  threads: number;
  /** label → bytes, for the lines under RssAnon. */
  parts: Array<[string, number]>;
  /** Of `parts`, what is resident private memory (heaps committed, linear memory, rings). */
  accounted: number;
  /** The main thread's V8 heap, committed, and the pipeline workers' heaps together. */
  mainHeap: number;
  workerHeaps: number;
}

async function procStatus(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)( kB)?/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** Reads the breakdown of the daemon `pid` whose control socket is `socket`. */
export async function readBreakdown(pid: number, socket: string): Promise<Breakdown> {
  const [proc, { result: status }] = await Promise.all([procStatus(pid), controlRequest<ControlStatus>(socket, 'status')]);
  const parts: Array<[string, number]> = [];
  let workerHeaps = 0;
  const main = status.memory?.main;
  if (main) parts.push([`main thread V8 heap (young ${(main.youngCommitted / MB).toFixed(1)} MB, used ${(main.heapUsed / MB).toFixed(1)} MB)`, main.heapCommitted]);
  for (const p of status.pipelines) {
    const m = p.memory;
    if (!m) continue;
    parts.push([`worker ${p.name} V8 heap (young ${(m.youngCommitted / MB).toFixed(1)} MB, used ${(m.heapUsed / MB).toFixed(1)} MB)`, m.heapCommitted]);
    workerHeaps += m.heapCommitted;
    const plugins = p.steps.map((s, i) => `${s.plugin} ${((m.wasmSteps[i] ?? 0) / MB).toFixed(2)}`).join(', ');
    parts.push([`worker ${p.name} plugin linear memory (${plugins}, polling ${(m.wasmPolling / MB).toFixed(2)} MB)`, m.wasmSteps.reduce((a, b) => a + b, 0) + m.wasmPolling]);
    parts.push([`pipeline ${p.name} rings (ingress + egress capacity)`, p.ingress.capacity + p.egress.capacity]);
  }
  const accounted = parts.reduce((sum, [, bytes]) => sum + bytes, 0);
  return {
    rss: proc.VmRSS!, rssAnon: proc.RssAnon!, rssFile: proc.RssFile!, peak: proc.VmHWM!, threads: proc.Threads!,
    parts, accounted, mainHeap: main?.heapCommitted ?? 0, workerHeaps,
  };
}

export function printBreakdown(label: string, b: Breakdown): void {
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1).padStart(6)} MB`;
  console.log(`memory breakdown, ${label}:`);
  console.log(`  RSS ${mb(b.rss)}   (peak ${(b.peak / MB).toFixed(1)} MB, ${b.threads} threads)`);
  console.log(`  RssFile ${mb(b.rssFile)}   (the node binary, libc, native modules: clean pages, shared)`);
  console.log(`  RssAnon ${mb(b.rssAnon)}   (private), of which, as committed:`);
  for (const [name, bytes] of b.parts) console.log(`    ${mb(bytes)}  ${name}`);
  console.log(`    ${mb(b.rssAnon - b.accounted)}  the rest: malloc (OpenSSL, SQLite, libuv), thread stacks, V8 code and metadata`);
}
