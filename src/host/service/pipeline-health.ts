/**
 * Whether the gateway is healthy enough to keep feeding the service watchdog. Not healthy when a
 * pipeline is:
 * - failed (it will not recover by itself);
 * - out of `running` (restarting, waiting out its back-off) for longer than `graceMs` without a break;
 * - stuck: its worker was restarted (killed by its watchdog for a plugin call past its deadline, or
 *   crashed) and no batch has completed since, for longer than `graceMs`. One hung batch is contained
 *   and skipped; a pipeline that hangs on every batch is this.
 * A pipeline held by back-pressure, or whose devices do not answer, is not unhealthy here: restarting
 * the process would not help either.
 */
import type { PipelineStatus } from '../pipeline/pipeline-runner.js';

export interface HealthVerdict {
  healthy: boolean;
  /** One sentence per unhealthy pipeline, naming it. */
  reasons: string[];
}

interface Seen {
  batchesDone: number;
  workerRestarts: number;
  /** Since when the pipeline has been out of `running`, or stuck; undefined while it is neither. */
  notRunningSince?: number;
  stuckSince?: number;
}

export class PipelineHealth {
  readonly graceMs: number;
  #seen = new Map<string, Seen>();

  constructor(graceMs: number) {
    this.graceMs = graceMs;
  }

  /** `nowMs` from the monotonic clock. */
  check(pipelines: readonly Pick<PipelineStatus, 'name' | 'state' | 'reason' | 'batchesDone' | 'workerRestarts'>[], nowMs: number): HealthVerdict {
    const reasons: string[] = [];
    for (const p of pipelines) {
      const seen = this.#seen.get(p.name) ?? { batchesDone: p.batchesDone, workerRestarts: p.workerRestarts };
      this.#seen.set(p.name, seen);
      const why = p.reason ? `: ${p.reason}` : '';
      if (p.state === 'failed') {
        reasons.push(`pipeline ${p.name} failed${why}`);
        continue;
      }
      if (p.state === 'running' || p.state === 'stopping' || p.state === 'stopped') seen.notRunningSince = undefined;
      else seen.notRunningSince ??= nowMs;
      if (p.batchesDone !== seen.batchesDone) {
        seen.stuckSince = undefined;
        seen.batchesDone = p.batchesDone;
        seen.workerRestarts = p.workerRestarts;
      } else if (p.workerRestarts !== seen.workerRestarts) {
        seen.stuckSince ??= nowMs;
      }
      if (seen.notRunningSince !== undefined && nowMs - seen.notRunningSince > this.graceMs) {
        reasons.push(`pipeline ${p.name} has been ${p.state} for ${Math.round(nowMs - seen.notRunningSince)} ms${why}`);
      } else if (seen.stuckSince !== undefined && nowMs - seen.stuckSince > this.graceMs) {
        reasons.push(`pipeline ${p.name} is stuck: ${p.workerRestarts - seen.workerRestarts} worker restart(s) and no batch done in ${Math.round(nowMs - seen.stuckSince)} ms${why}`);
      }
    }
    return { healthy: reasons.length === 0, reasons };
  }
}
