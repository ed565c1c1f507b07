/**
 * What `/healthz` and `/readyz` say, from the gateway's status:
 * - healthy (`/healthz`): no pipeline has failed for good. A failed pipeline does not come back by
 *   itself; a supervisor that restarts the daemon on an unhealthy answer may bring it back.
 * - ready (`/readyz`): healthy, every pipeline running (not starting or restarting its worker), and in
 *   every pipeline at least one device answering (its link open, not quarantined, answered before,
 *   or holding its COV subscriptions: a subscribed BACnet device answers nothing until it is asked).
 *   An uplink that is away does not make the gateway unready: the outbox holds the readings.
 * Each problem is one sentence naming what it concerns, for the answer's body and the log.
 */
import type { GatewayStatus } from '../gateway.js';

export interface HealthVerdict {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export function health(status: GatewayStatus): HealthVerdict {
  const problems = status.pipelines
    .filter((p) => p.state === 'failed')
    .map((p) => `pipeline ${p.name} failed${p.reason ? `: ${p.reason}` : ''}`);
  return { ok: problems.length === 0, problems };
}

/**
 * `stuck`: what a StuckWatch says of this status. A pipeline whose plugin hangs on every batch is
 * `running` most of the time (its worker is replaced at once after each kill), so its state alone
 * would answer ready between kills.
 */
export function readiness(status: GatewayStatus, stuck: readonly string[] = []): HealthVerdict {
  const problems = [...health(status).problems, ...stuck];
  for (const p of status.pipelines) {
    if (p.state !== 'running' && p.state !== 'failed') problems.push(`pipeline ${p.name} is ${p.state}${p.reason ? `: ${p.reason}` : ''}`);
    if (p.devices.length > 0 && !p.devices.some((d) => d.connected && !d.quarantined && (d.responses > 0 || d.cov?.state === 'subscribed'))) {
      problems.push(`pipeline ${p.name}: none of its ${p.devices.length} device(s) answers`);
    }
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Which pipelines are stuck: their worker was restarted (a plugin call past its deadline, a crash) and
 * has completed no batch since. Kept across answers, as the service watchdog keeps it
 * (service/pipeline-health.ts), but without its grace: /readyz answers for this moment, and a
 * pipeline recovering from one hung batch is ready again at its next completed batch. A restart
 * before the first question is not known; a pipeline stuck for good restarts again.
 */
export class StuckWatch {
  readonly #lastBatch = new Map<string, { batchesDone: number; workerRestarts: number }>();

  stuck(status: GatewayStatus): string[] {
    const problems: string[] = [];
    for (const p of status.pipelines) {
      const seen = this.#lastBatch.get(p.name);
      if (seen === undefined || p.batchesDone !== seen.batchesDone || p.workerRestarts < seen.workerRestarts) {
        this.#lastBatch.set(p.name, { batchesDone: p.batchesDone, workerRestarts: p.workerRestarts });
      } else if (p.workerRestarts > seen.workerRestarts) {
        problems.push(`pipeline ${p.name} is stuck: ${p.workerRestarts - seen.workerRestarts} worker restart(s) and no batch done since`);
      }
    }
    return problems;
  }
}
