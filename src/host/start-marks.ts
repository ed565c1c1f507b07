/**
 * When each phase of a daemon's start ended, in ms since its process started (performance.now() counts
 * from there), so that `gateway.started` can say where a slow start went: node's own boot and the
 * command line (`cli`), the config thread booted (`configBooted`), had asked the start cache
 * (`configCache`), had its modules, had loaded and checked the files and had configured the plugins
 * (`configImported`, `configLoaded`, `configConfigured`: absent when the cache was used), the
 * configuration in hand (`config`), this thread's modules (`modules`), the uplinks, outbox and
 * pipelines (`gateway`). A start through `wasmgate run` without the daemon's flags runs node twice
 * (daemon-runtime.js): the first boot is before this process's zero.
 */
export type StartPhase = 'cli' | 'configBooted' | 'configCache' | 'configImported' | 'configLoaded' | 'configConfigured' | 'config' | 'modules' | 'gateway';

const marks: Partial<Record<StartPhase, number>> = {};

/** `at`: when it ended, if not now (a phase of another thread, converted to this process's clock). */
export function markStart(phase: StartPhase, at: number = performance.now()): void {
  marks[phase] ??= Math.round(at);
}

export function startMarks(): Partial<Record<StartPhase, number>> {
  return { ...marks };
}
