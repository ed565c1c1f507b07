/**
 * What `/healthz` and `/readyz` say, from the gateway's status:
 * - healthy (`/healthz`): no pipeline has failed for good. A failed pipeline does not come back by
 *   itself; a supervisor that restarts the daemon on an unhealthy answer may bring it back.
 * - ready (`/readyz`): healthy, every pipeline running (not starting or restarting its worker), and in
 *   every pipeline at least one device answering (its link open, not quarantined, answered before).
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

export function readiness(status: GatewayStatus): HealthVerdict {
  const problems = [...health(status).problems];
  for (const p of status.pipelines) {
    if (p.state !== 'running' && p.state !== 'failed') problems.push(`pipeline ${p.name} is ${p.state}${p.reason ? `: ${p.reason}` : ''}`);
    if (p.devices.length > 0 && !p.devices.some((d) => d.connected && !d.quarantined && d.responses > 0)) {
      problems.push(`pipeline ${p.name}: none of its ${p.devices.length} device(s) answers`);
    }
  }
  return { ok: problems.length === 0, problems };
}
