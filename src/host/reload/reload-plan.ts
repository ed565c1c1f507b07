/**
 * What a reload would change (docs/cli.md, `reload`): the running configuration against the one just
 * read, pipeline by pipeline. A pipeline is unchanged when its resolved settings are the same and so
 * are the bytes of every plugin module it runs (a plugin rebuilt under the same manifest is a change);
 * an unchanged pipeline keeps running untouched. Gateway-level settings (uplinks, data_dir, control,
 * metrics, the gateway id, the log settings, which every component's logger was made with) are held by
 * the whole daemon: a change to them is named and needs a restart.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ResolvedGateway, ResolvedPipeline } from '../config/resolved.js';

export interface ReloadPlan {
  readonly unchanged: readonly string[];
  /** In the new file's order, with their new settings. */
  readonly changed: readonly ResolvedPipeline[];
  readonly added: readonly ResolvedPipeline[];
  readonly removed: readonly string[];
  /** Gateway-level settings that differ, by name: a reload cannot apply them. */
  readonly needsRestart: readonly string[];
}

/** Settings of the whole daemon, by the name config.md gives them. */
const GATEWAY_LEVEL: ReadonlyArray<[string, (g: ResolvedGateway) => unknown]> = [
  ['gateway.id', (g) => g.id],
  ['gateway.data_dir', (g) => g.dataDir],
  ['gateway.log', (g) => g.log],
  ['uplinks', (g) => g.uplinks],
  ['control', (g) => g.control],
  ['metrics', (g) => g.metrics],
];

/** A pipeline's settings and the bytes of its plugin modules, hashed: taken when it starts, compared at a reload. */
export async function pipelineFingerprint(pipeline: ResolvedPipeline): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(pipeline));
  for (const step of pipeline.steps) hash.update(await readFile(step.wasmPath).catch(() => Buffer.from(`missing ${step.wasmPath}`)));
  return hash.digest('hex');
}

/** `running`: each running pipeline's fingerprint, as taken when it started (its modules may have been rebuilt since). */
export async function planReload(current: ResolvedGateway, next: ResolvedGateway, running: ReadonlyMap<string, string>): Promise<ReloadPlan> {
  const needsRestart = GATEWAY_LEVEL.filter(([, of]) => JSON.stringify(of(current)) !== JSON.stringify(of(next))).map(([name]) => name);
  const unchanged: string[] = [];
  const changed: ResolvedPipeline[] = [];
  const added: ResolvedPipeline[] = [];
  for (const p of next.pipelines) {
    const old = running.get(p.name);
    if (old === undefined) added.push(p);
    else if (old === (await pipelineFingerprint(p))) unchanged.push(p.name);
    else changed.push(p);
  }
  const names = new Set(next.pipelines.map((p) => p.name));
  const removed = current.pipelines.filter((p) => !names.has(p.name)).map((p) => p.name);
  return { unchanged, changed, added, removed, needsRestart };
}
