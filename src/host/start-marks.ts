/**
 * When each phase of a daemon's start ended, in ms since its process started (performance.now() counts
 * from there), so that `gateway.started` can say where a slow start went: node's own boot and the
 * command line (`cli`), reading and checking the files apart (`config`), this thread's modules
 * (`modules`), the uplinks, outbox and pipelines (`gateway`). A start through `wasmgate run` without
 * the daemon's flags runs node twice (daemon-runtime.js): the first boot is before this process's zero.
 */
export type StartPhase = 'cli' | 'config' | 'modules' | 'gateway';

const marks: Partial<Record<StartPhase, number>> = {};

export function markStart(phase: StartPhase): void {
  marks[phase] ??= Math.round(performance.now());
}

export function startMarks(): Partial<Record<StartPhase, number>> {
  return { ...marks };
}
