/**
 * What a reload would change (docs/cli.md, `reload`): the running configuration against the one just
 * read, pipeline by pipeline. A pipeline is unchanged when its resolved settings are the same and so
 * are the bytes of every plugin module it runs (a plugin rebuilt under the same manifest is a change);
 * an unchanged pipeline keeps running untouched. A pipeline whose change is only in its steps' modules
 * or `with:` settings (same source, devices, links, points, publish, batch, rings, the same number of
 * steps of the same kinds) is swapped: those steps get their new versions inside the running worker
 * (docs/plugin-abi.md, "Swapping"). Any other change restarts it. Gateway-level settings (uplinks,
 * data_dir, control, metrics, the gateway id, the log settings, which every component's logger was made
 * with) are held by the whole daemon: a change to them is named and needs a restart.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ResolvedGateway, ResolvedPipeline, ResolvedStep } from '../config/resolved.js';

export interface ReloadPlan {
  readonly unchanged: readonly string[];
  /** In the new file's order, with their new settings: restarted. */
  readonly changed: readonly ResolvedPipeline[];
  /** Swapped in place: the new settings and the indices of the steps that changed. */
  readonly swapped: ReadonlyArray<{ readonly pipeline: ResolvedPipeline; readonly steps: readonly number[] }>;
  readonly added: readonly ResolvedPipeline[];
  readonly removed: readonly string[];
  /** Gateway-level settings that differ, by name: a reload cannot apply them. */
  readonly needsRestart: readonly string[];
}

/** A running pipeline's fingerprints, taken when it started or was last swapped. */
export interface RunningFingerprint {
  /** Its settings and every module's bytes. */
  readonly whole: string;
  /** Per step: its settings and its module's bytes. */
  readonly steps: readonly string[];
  /** Everything but the steps' plugins, modules and `with:`. */
  readonly shape: string;
}

/** Settings of the whole daemon, by the name config.md gives them. */
const GATEWAY_LEVEL: ReadonlyArray<[string, (g: ResolvedGateway) => unknown]> = [
  ['gateway.id', (g) => g.id],
  ['gateway.data_dir', (g) => g.dataDir],
  ['gateway.log', (g) => g.log],
  ['uplinks', (g) => g.uplinks],
  ['control', (g) => g.control],
  ['metrics', (g) => g.metrics],
  ['plugins.drop_in', (g) => g.plugins.dropIn],
  ['fleet', (g) => g.fleet],
];

async function moduleBytes(step: ResolvedStep): Promise<Buffer> {
  return readFile(step.wasmPath).catch(() => Buffer.from(`missing ${step.wasmPath}`));
}

/** A pipeline's settings and the bytes of its plugin modules, hashed: taken when it starts, compared at a reload. */
export async function pipelineFingerprint(pipeline: ResolvedPipeline): Promise<RunningFingerprint> {
  const whole = createHash('sha256').update(JSON.stringify(pipeline));
  const steps: string[] = [];
  for (const step of pipeline.steps) {
    const bytes = await moduleBytes(step);
    whole.update(bytes);
    steps.push(createHash('sha256').update(JSON.stringify(step)).update(bytes).digest('hex'));
  }
  return { whole: whole.digest('hex'), steps, shape: shapeOf(pipeline) };
}

/** What a swap cannot change: all of the pipeline but which plugin each step runs, its module and its `with:`. */
function shapeOf(pipeline: ResolvedPipeline): string {
  return JSON.stringify({ ...pipeline, steps: pipeline.steps.map((s) => s.kind) });
}

/** `running`: each running pipeline's fingerprints, as taken when it started (its modules may have been rebuilt since). */
export async function planReload(current: ResolvedGateway, next: ResolvedGateway, running: ReadonlyMap<string, RunningFingerprint>): Promise<ReloadPlan> {
  const needsRestart = GATEWAY_LEVEL.filter(([, of]) => JSON.stringify(of(current)) !== JSON.stringify(of(next))).map(([name]) => name);
  const unchanged: string[] = [];
  const changed: ResolvedPipeline[] = [];
  const swapped: Array<{ pipeline: ResolvedPipeline; steps: number[] }> = [];
  const added: ResolvedPipeline[] = [];
  for (const p of next.pipelines) {
    const old = running.get(p.name);
    if (old === undefined) {
      added.push(p);
      continue;
    }
    const now = await pipelineFingerprint(p);
    if (old.whole === now.whole) unchanged.push(p.name);
    else if (old.shape === now.shape) swapped.push({ pipeline: p, steps: now.steps.flatMap((h, i) => (h === old.steps[i] ? [] : [i])) });
    else changed.push(p);
  }
  const names = new Set(next.pipelines.map((p) => p.name));
  const removed = current.pipelines.filter((p) => !names.has(p.name)).map((p) => p.name);
  return { unchanged, changed, swapped, added, removed, needsRestart };
}
