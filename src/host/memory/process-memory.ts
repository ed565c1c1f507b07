/**
 * The daemon's memory as the kernel counts it (/proc/self/status), with the main thread's isolate.
 * RSS is what `ps` and most dashboards show; RssAnon is private memory (heaps, malloc, thread stacks,
 * rings, plugin linear memory), which is what a second process could not share; RssFile is the
 * mapped files, mostly the node binary and libc, clean and reclaimable.
 */
import { readFileSync } from 'node:fs';
import { isolateMemory, type IsolateMemory } from './thread-memory.js';

export interface ProcessMemory {
  /** Resident set, bytes. */
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  /** Highest RSS since the start (VmHWM), bytes. */
  rssPeak: number;
  /** Threads of the process (main, the pipeline workers, V8's and libuv's helpers). */
  threads: number;
  main: IsolateMemory;
}

/** Reads the kernel's figures for `pid` (this process by default); undefined where /proc is not Linux's. */
export function procStatusMemory(pid: number | 'self' = 'self'): Omit<ProcessMemory, 'main'> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const kb = (key: string): number => field(key) * 1024;
  return { rss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), rssShmem: kb('RssShmem'), rssPeak: kb('VmHWM'), threads: field('Threads') };
}

export function processMemory(): ProcessMemory | undefined {
  const proc = procStatusMemory();
  return proc && { ...proc, main: isolateMemory() };
}
