/**
 * What `run` does while its configuration is read apart (config-thread.ts): the config thread boots,
 * loads its modules, parses and validates, and dry-configures every plugin, for a few hundred
 * milliseconds in which the main thread used to sit idle, then loaded the gateway's modules and the
 * uplink's client (MQTT.js is about 150 modules) one after the other. Here the main thread loads them
 * meanwhile, on the other core (bench/gateway.bench.ts, "process start → first MQTT message").
 *
 * Which sink modules to load is guessed from the gateway file's text: a hint, never a decision. The
 * config thread decides what runs; a wrong guess costs only an idle module or the load it would have
 * cost anyway, and a module that fails to load here is loaded again, and reported, where it is used.
 */
import { readFile } from 'node:fs/promises';
import { loadAndConfigureApart } from './config-thread.js';
import type { LoadResult } from '../config/load.js';

export interface StartOverlap {
  /** The configuration, from the config thread. */
  loaded: Promise<LoadResult>;
  /** Settles once the modules it guessed are loaded (or failed to); never rejects. */
  warmed: Promise<void>;
}

/** Starts reading the configuration apart, then loads what the daemon will need while it runs. */
export function startOverlapped(file: string): StartOverlap {
  const loaded = loadAndConfigureApart(file);
  const warmed = (async () => {
    const modules: Promise<unknown>[] = [import('./run.js')];
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\s*mqtt\s*:/m.test(text) || /\bmqtt:\s*\{/.test(text)) modules.push(import('../sinks/mqtt.js'));
    if (/^\s*coap\s*:/m.test(text) || /\bcoap:\s*\{/.test(text)) modules.push(import('../sinks/coap.js'));
    await Promise.allSettled(modules);
  })().catch(() => undefined);
  return { loaded, warmed };
}
