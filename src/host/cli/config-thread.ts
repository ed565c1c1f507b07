/**
 * The daemon's configuration, read in a thread of its own: the worker loads, checks and resolves the
 * files, configures every plugin as `validate` does (config-thread-main.ts), hands back the result and
 * exits, and its heap goes with it. The daemon's own heap never holds the YAML parser, the schema
 * validator, the compiled schemas or the parsed documents: they cost about 5.6 MB of heap and 10 MB
 * of private memory for as long as the process ran (bench/gateway.bench.ts, "config modules").
 * `run` reads its start configuration this way and every reload (SIGHUP, `wasmgate reload`) too.
 *
 * The result is a structured clone of what loadAndConfigure returns: plain data (the resolved config
 * holds paths, not file contents), frozen again here. The worker gets a heap limit of its own, above
 * the daemon's (--max-old-space-size=64): a 1 MiB file of aliases must end in a config problem, not in
 * the daemon's out-of-memory abort.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { LoadResult } from '../config/load.js';
import type { ConfigInput } from '../config/config-inputs.js';
import type { CacheLocation } from './config-cache.js';
import { deepFreeze } from '../config/deep-freeze.js';
import { WgError } from '../errors.js';

const ENTRY = new URL('./config-thread-main.js', import.meta.url);
/** The worker's old generation, MB: what `validate` had under the unit before it ran apart (96). */
const CONFIG_HEAP_MB = 96;

/** What the config thread answered: the result, when its phases ended, and with `record` what it read. */
export interface ApartLoad {
  result: LoadResult;
  /** Wall-clock ms (performance.timeOrigin + now) at which the thread booted, imported, loaded, configured. */
  marks: Record<string, number>;
  /** `cache`: what the start cache did; on a miss with a cache location, `inputs` are the load's. */
  cache?: { used: boolean; reason?: string; location?: CacheLocation };
  /** Every input of a load that missed the cache (config-inputs.ts), or why they cannot key one. */
  inputs?: ConfigInput[] | { taint: string };
}

/** loadAndConfigure(file) in a short-lived worker; rejects only when the worker itself fails. */
export async function loadAndConfigureApart(file: string): Promise<LoadResult> {
  return (await loadApart(file)).result;
}

/** As loadAndConfigureApart, with the thread's marks; with `cache`, from the start cache when it holds (config-cache.ts). */
export async function loadApart(file: string, options: { cache?: boolean } = {}): Promise<ApartLoad> {
  const worker = new Worker(ENTRY, { workerData: { file, cache: options.cache === true }, resourceLimits: { maxOldGenerationSizeMb: CONFIG_HEAP_MB } });
  type Answer = { result?: LoadResult; error?: string; marks: Record<string, number>; cache?: ApartLoad['cache']; inputs?: ApartLoad['inputs'] };
  const outcome = Promise.race([
    once(worker, 'message').then(([m]) => ({ ok: true as const, answer: m as Answer })),
    once(worker, 'error').then(([err]) => ({ ok: false as const, err: err as Error })),
    once(worker, 'exit').then(([code]) => ({ ok: false as const, err: new Error(`exited with code ${code} before answering`) })),
  ]);
  const settled = await outcome;
  await worker.terminate();
  if (!settled.ok || settled.answer.error !== undefined) {
    const detail = settled.ok ? settled.answer.error! : settled.err.message;
    throw new WgError('WG_ERR_CONFIG_THREAD', { file, detail });
  }
  const { result, marks, cache, inputs } = settled.answer;
  return { result: result!.ok ? { ...result!, config: deepFreeze(result!.config) } : result!, marks, ...(cache === undefined ? {} : { cache }), ...(inputs === undefined ? {} : { inputs }) };
}
