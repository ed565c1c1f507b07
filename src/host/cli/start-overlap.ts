/**
 * What `run` does while its configuration is read apart (config-thread.ts): the config thread boots,
 * loads its modules, parses and validates, and dry-configures every plugin, for a few hundred
 * milliseconds in which the main thread used to sit idle, then loaded the gateway's modules and the
 * uplink's client (MQTT.js is about 150 modules) one after the other. Here the main thread loads them
 * meanwhile, on the other core (bench/gateway.bench.ts, "process start → first MQTT message").
 *
 * The thread asks the start cache (config-cache.ts) first: when every input of the last start is
 * unchanged, its configuration is the answer, and nothing is parsed, checked or configured. On a miss
 * the thread records its inputs, and a valid result is written to the cache once the gateway runs
 * (`cache.save`), off the path to the first message.
 *
 * Which sink modules to load is guessed from the gateway file's text: a hint, never a decision. The
 * config thread decides what runs; a wrong guess costs only an idle module or the load it would have
 * cost anyway, and a module that fails to load here is loaded again, and reported, where it is used.
 */
import { readFile } from 'node:fs/promises';
import { loadApart } from './config-thread.js';
import type { LoadResult } from '../config/load.js';
import { markStart } from '../start-marks.js';
import { SpareWorkers } from '../pipeline/spare-workers.js';

/** What the start cache did for this start: used, or missed and why; `save` writes it after a miss. */
export interface StartCache {
  used: boolean;
  reason?: string;
  file?: string;
  /** After a miss with a valid configuration: writes the cache (never rejects). */
  save?: () => Promise<{ written: true; file: string } | { written: false; reason: string }>;
}

export interface StartOverlap {
  /** The configuration, from the start cache or the config thread. */
  loaded: Promise<LoadResult>;
  /** Settles with `loaded`: what the start cache did. */
  cache: Promise<StartCache>;
  /** Settles once the modules it guessed are loaded (or failed to); never rejects. */
  warmed: Promise<void>;
  /** A pipeline worker per pipeline, started as soon as the configuration is in hand (spare-workers.ts); never rejects. */
  spares: Promise<SpareWorkers | undefined>;
}

/** Starts reading the configuration (cached, else apart), then loads what the daemon will need while it runs. */
export function startOverlapped(file: string): StartOverlap {
  const both = loadOrCached(file);
  const loaded = both.then((b) => b.result);
  const cache = both.then((b) => b.cache, () => ({ used: false, reason: 'the config thread failed' }));
  const warmed = (async () => {
    const modules: Promise<unknown>[] = [import('./run.js')];
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\s*mqtt\s*:/m.test(text) || /\bmqtt:\s*\{/.test(text)) modules.push(import('../sinks/mqtt.js'));
    if (/^\s*coap\s*:/m.test(text) || /\bcoap:\s*\{/.test(text)) modules.push(import('../sinks/coap.js'));
    await Promise.allSettled(modules);
  })().catch(() => undefined);
  // Started the moment the configuration is known: they boot on the other core while this thread
  // still loads the gateway's modules (on a start from the cache, for about 100 ms).
  const spares = loaded.then(
    (r) => (r.ok && r.config.pipelines.length > 0 ? new SpareWorkers(r.config.pipelines.length) : undefined),
    () => undefined,
  );
  return { loaded, cache, warmed, spares };
}

/** The config thread's phases, as start marks of this process. */
const THREAD_MARKS = { booted: 'configBooted', cached: 'configCache', imported: 'configImported', loaded: 'configLoaded', configured: 'configConfigured' } as const;

async function loadOrCached(file: string): Promise<{ result: LoadResult; cache: StartCache }> {
  const apart = await loadApart(file, { cache: true });
  for (const [phase, wall] of Object.entries(apart.marks)) {
    const mark = THREAD_MARKS[phase as keyof typeof THREAD_MARKS];
    if (mark) markStart(mark, wall - performance.timeOrigin);
  }
  const { result, inputs } = apart;
  const location = apart.cache?.location;
  const cache: StartCache = { used: apart.cache?.used === true, ...(apart.cache?.reason !== undefined ? { reason: apart.cache.reason } : {}), ...(location ? { file: location.file } : {}) };
  if (!cache.used && location && result.ok && inputs !== undefined) {
    if (Array.isArray(inputs)) {
      // Loaded only to write: a start from the cache never needs it on this thread.
      cache.save = async () => (await import('./config-cache.js')).writeConfigCache(location, file, result, inputs);
    } else cache.reason = `${cache.reason}; not written: ${inputs.taint}`;
  }
  return { result, cache };
}
