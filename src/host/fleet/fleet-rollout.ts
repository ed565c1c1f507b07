/**
 * A staged rollout of one plugin package through the broker (docs/fleet.md, "Rollout"): the canary
 * cohort first, then the rest in waves. Each stage: an install command to each of its gateways, their
 * statuses awaited, then a watch of `watchMs` during which a crash-loop rollback reported by any of
 * them fails the stage, then a health probe (a `status` command) whose answer must show the new
 * version running, every pipeline that runs it running, and no more than `maxTraps` traps of it.
 * Anything else (a refusal, a status that does not come, an unhealthy probe) stops the rollout, and
 * every gateway that was sent the install and did not refuse it or have it already gets a rollback
 * command naming the version to leave (a gateway where it is not active changes nothing).
 */
import { randomBytes } from 'node:crypto';
import type { FleetStatus } from './fleet-status.js';
import type { StatusBoard } from './status-board.js';
import { WgError } from '../errors.js';

export interface RolloutPackage {
  readonly plugin: string;
  readonly version: string;
  /** sha256 of the package file. */
  readonly sha256: string;
  readonly bytes: Uint8Array;
  /** Where the gateways fetch it; undefined: in the command, base64. */
  readonly url?: string;
}

/** A wave's size: so many gateways, or a share of all of them. */
export type WaveSize = { readonly count: number } | { readonly percent: number };

export interface RolloutPlan {
  readonly gateways: readonly string[];
  readonly canary: number;
  /** Sizes of the waves after the canary; the last repeats until every gateway had its turn. */
  readonly waves: readonly WaveSize[];
  readonly watchMs: number;
  readonly statusTimeoutMs: number;
  readonly maxTraps: number;
}

export type GatewayResult = {
  readonly gateway: string;
  readonly outcome: FleetStatus['outcome'] | 'no-status' | 'unhealthy';
  readonly code?: string;
  readonly reason?: string;
};

export interface StageResult {
  readonly name: string;
  readonly gateways: readonly string[];
  readonly results: GatewayResult[];
  readonly ok: boolean;
}

export interface RolloutResult {
  readonly ok: boolean;
  readonly rollout: string;
  readonly plugin: string;
  readonly version: string;
  readonly stages: StageResult[];
  /** Set when the rollout stopped: the stage and why. */
  readonly stopped?: { readonly stage: string; readonly reason: string };
  readonly rolledBack: GatewayResult[];
  /** Gateways that run the new version at the end (none after a stop that rolled back). */
  readonly reached: string[];
}

export type RolloutEvent =
  | { readonly kind: 'stage'; readonly stage: string; readonly gateways: readonly string[] }
  | { readonly kind: 'result'; readonly stage: string; readonly result: GatewayResult; readonly phase: 'install' | 'watch' | 'probe' | 'rollback' }
  | { readonly kind: 'watching'; readonly stage: string; readonly ms: number };

/** The stages of `plan`: names and gateways. */
export function stagesOf(plan: RolloutPlan): Array<{ name: string; gateways: string[] }> {
  const all = [...plan.gateways];
  const stages = [{ name: 'canary', gateways: all.splice(0, Math.max(1, plan.canary)) }];
  const sizes = plan.waves.length > 0 ? plan.waves : [{ count: all.length }];
  for (let i = 0; all.length > 0; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    const n = 'count' in size ? size.count : Math.ceil((size.percent / 100) * plan.gateways.length);
    stages.push({ name: `wave ${i + 1}`, gateways: all.splice(0, Math.max(1, n)) });
  }
  return stages;
}

export async function rollout(pkg: RolloutPackage, plan: RolloutPlan, board: StatusBoard, onEvent: (e: RolloutEvent) => void = () => undefined): Promise<RolloutResult> {
  const rolloutId = `rollout-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const stages: StageResult[] = [];
  /** Gateways sent the install that did not refuse it or have it already: the ones to roll back on a stop. */
  const touched: string[] = [];
  const reached: string[] = [];
  const expires = () => new Date(Date.now() + plan.statusTimeoutMs).toISOString();
  const installId = (g: string) => `${rolloutId}/${g}/install`;
  let stopped: RolloutResult['stopped'];

  for (const { name, gateways } of stagesOf(plan)) {
    onEvent({ kind: 'stage', stage: name, gateways });
    const stage: StageResult = { name, gateways, results: [], ok: true };
    stages.push(stage);
    const fail = (result: GatewayResult, phase: 'install' | 'watch' | 'probe') => {
      stage.results.push(result);
      onEvent({ kind: 'result', stage: name, result, phase });
      if (result.outcome !== 'applied' && result.outcome !== 'unchanged' && result.outcome !== 'status') {
        (stage as { ok: boolean }).ok = false;
        stopped ??= { stage: name, reason: `${result.gateway}: ${result.outcome}${result.code ? ` ${result.code}` : ''}${result.reason ? `: ${result.reason}` : ''}` };
      }
    };
    // Crash-loop rollbacks are reported whenever they happen: from the send on, not only in the watch.
    const rolledBack = new Map<string, FleetStatus>();
    const stopWatch = board.watch((s) => {
      if (s.outcome === 'rolled-back' && gateways.includes(s.gateway) && s.command?.id === installId(s.gateway)) rolledBack.set(s.gateway, s);
    });
    try {
      for (const g of gateways) {
        const command = { id: installId(g), op: 'install', plugin: pkg.plugin, version: pkg.version, sha256: pkg.sha256, ...(pkg.url ? { url: pkg.url } : { package: Buffer.from(pkg.bytes).toString('base64') }), expires: expires() };
        await board.send(g, command);
        touched.push(g);
      }
      const answers = await Promise.all(gateways.map(async (g) => [g, await board.answer(installId(g), plan.statusTimeoutMs)] as const));
      for (const [g, s] of answers) {
        if (!s) fail(noStatus(g, installId(g), plan.statusTimeoutMs), 'install');
        else {
          if (s.outcome === 'refused' || s.outcome === 'unchanged') touched.splice(touched.indexOf(g), 1);
          fail({ gateway: g, outcome: s.outcome, ...(s.code ? { code: s.code } : {}), ...(s.reason ? { reason: s.reason } : {}) }, 'install');
        }
      }
      if (!stopped) {
        onEvent({ kind: 'watching', stage: name, ms: plan.watchMs });
        await watchFor(plan.watchMs, () => rolledBack.size > 0);
      }
      for (const [g, s] of rolledBack) fail({ gateway: g, outcome: 'rolled-back', ...(s.code ? { code: s.code } : {}), ...(s.reason ? { reason: s.reason } : {}) }, 'watch');
      if (!stopped) {
        const probes = await Promise.all(gateways.map(async (g) => {
          const id = `${rolloutId}/${g}/probe-${name.replace(/ /g, '')}`;
          await board.send(g, { id, op: 'status', expires: expires() });
          return [g, await board.answer(id, plan.statusTimeoutMs)] as const;
        }));
        for (const [g, s] of probes) {
          const sick = s ? unhealthy(s, pkg, plan.maxTraps) : undefined;
          if (!s) fail(noStatus(g, `${rolloutId}/${g}/probe-${name.replace(/ /g, '')}`, plan.statusTimeoutMs), 'probe');
          else fail(sick ? { gateway: g, outcome: 'unhealthy', reason: sick } : { gateway: g, outcome: 'status', reason: 'healthy' }, 'probe');
        }
      }
    } finally {
      stopWatch();
    }
    if (stopped) break;
    reached.push(...gateways);
  }

  const rolledBack: GatewayResult[] = [];
  if (stopped) {
    await Promise.all(touched.map(async (g) => {
      const id = `${rolloutId}/${g}/rollback`;
      await board.send(g, { id, op: 'rollback', plugin: pkg.plugin, version: pkg.version, expires: expires() });
      const s = await board.answer(id, plan.statusTimeoutMs);
      const result: GatewayResult = s ? { gateway: g, outcome: s.outcome, ...(s.code ? { code: s.code } : {}), ...(s.reason ? { reason: s.reason } : {}) } : noStatus(g, id, plan.statusTimeoutMs);
      rolledBack.push(result);
      onEvent({ kind: 'result', stage: 'rollback', result, phase: 'rollback' });
    }));
    reached.length = 0;
  }
  return { ok: !stopped, rollout: rolloutId, plugin: pkg.plugin, version: pkg.version, stages, ...(stopped ? { stopped } : {}), rolledBack, reached };
}

function noStatus(gateway: string, id: string, timeoutMs: number): GatewayResult {
  const error = new WgError('WG_ERR_FLEET_NO_STATUS', { gateway, id, timeout: `${timeoutMs} ms` });
  return { gateway, outcome: 'no-status', code: error.code, reason: error.message };
}

/** Why a probe's answer shows the gateway unhealthy with the new version; undefined when healthy. */
export function unhealthy(s: FleetStatus, pkg: RolloutPackage, maxTraps: number): string | undefined {
  const versions = s.running?.[pkg.plugin] ?? [];
  if (versions.some((v) => v !== pkg.version)) return `${pkg.plugin} runs ${versions.join(', ')}, not only ${pkg.version}`;
  for (const p of s.pipelines ?? []) {
    const steps = p.steps.filter((st) => st.plugin === pkg.plugin);
    if (steps.length === 0) continue;
    if (p.state !== 'running') return `pipeline ${p.name}, which runs ${pkg.plugin}, is ${p.state}`;
    const traps = steps.reduce((n, st) => n + st.traps, 0);
    if (traps > maxTraps) return `${pkg.plugin} ${pkg.version} trapped ${traps} times in pipeline ${p.name} (at most ${maxTraps} allowed)`;
  }
  return undefined;
}

/** Waits `ms`, or less once `done()` holds (checked every 100 ms). */
async function watchFor(ms: number, done: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, end - performance.now()))));
}
