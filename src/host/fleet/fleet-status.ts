/**
 * The message on a gateway's retained status topic (docs/fleet.md, "Status"): the outcome of the
 * command it last worked on, or of the crash-loop guard, and what runs now. Retained, so a rollout
 * tool that subscribes late, or an operator's dashboard, reads the latest state at once.
 */
import type { GatewayStatus } from '../gateway.js';

export type FleetOutcome = 'applied' | 'unchanged' | 'refused' | 'rolled-back' | 'status';

export interface FleetCounters {
  /** Commands received on the command topics (dropped ones included). */
  received: number;
  applied: number;
  refused: number;
  /** Commands whose id was taken up before: not applied again. */
  duplicates: number;
  /** Dropped unread because `fleet.queue` commands were already waiting (a flood). */
  dropped: number;
}

export interface FleetStatus {
  readonly gateway: string;
  /** Wall time of the status, ISO 8601. */
  readonly at: string;
  /** The command this is the outcome of; id null: none (a crash loop after a local install, or a command without a readable id). */
  readonly command: { readonly id: string | null; readonly op: string | null };
  readonly outcome: FleetOutcome;
  readonly plugin?: string;
  readonly version?: string;
  readonly code?: string;
  readonly reason?: string;
  /** Every plugin a step runs now, with its versions (several when pipelines differ). */
  readonly running: Readonly<Record<string, readonly string[]>>;
  /** Each pipeline's state and each step's plugin, version and traps. */
  readonly pipelines: ReadonlyArray<{ readonly name: string; readonly state: string; readonly steps: ReadonlyArray<{ readonly plugin: string; readonly version: string; readonly traps: number }> }>;
  readonly counters: Readonly<FleetCounters>;
}

export function fleetStatus(status: GatewayStatus, about: Omit<FleetStatus, 'gateway' | 'at' | 'running' | 'pipelines' | 'counters'>, counters: FleetCounters, now: Date): FleetStatus {
  const running: Record<string, string[]> = {};
  for (const p of status.pipelines) {
    for (const s of p.steps) {
      const versions = (running[s.plugin] ??= []);
      if (!versions.includes(s.version)) versions.push(s.version);
    }
  }
  return {
    gateway: status.gateway,
    at: now.toISOString(),
    ...about,
    running,
    pipelines: status.pipelines.map((p) => ({ name: p.name, state: p.state, steps: p.steps.map((s) => ({ plugin: s.plugin, version: s.version, traps: s.traps })) })),
    counters: { ...counters },
  };
}
