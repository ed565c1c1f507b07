/**
 * `wasmgate fleet rollout PACKAGE` (docs/cli.md, docs/fleet.md): reads the package (its plugin,
 * version and sha256), connects to the broker as any client does, runs the staged rollout
 * (fleet-rollout.ts) and prints each gateway's outcome as it comes, or the whole result as JSON.
 * Exit 0: every gateway runs the new version; 1: the rollout stopped (and rolled back what it did).
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { WgError } from '../errors.js';
import { parseDuration } from '../config/units.js';
import { parsePackage } from '../packages/plugin-package.js';
import { rollout, stagesOf, type RolloutEvent, type RolloutPlan, type RolloutResult, type WaveSize } from '../fleet/fleet-rollout.js';
import { StatusBoard } from '../fleet/status-board.js';
import { DEFAULT_TOPIC_PREFIX } from '../fleet/fleet-settings.js';

export interface RolloutCliOptions {
  broker: string;
  gateways?: string;
  gatewaysFile?: string;
  canary: string;
  waves?: string;
  watch: string;
  statusTimeout: string;
  maxTraps: string;
  url?: string;
  prefix?: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  json?: boolean;
}

function usage(detail: string): never {
  throw new WgError('WG_ERR_CLI_USAGE', { detail });
}

function duration(name: string, text: string): number {
  const d = parseDuration(/^[0-9]+$/.test(text) ? Number(text) : text);
  if (!d.ok) usage(`--${name} must ${d.reason} (got ${text})`);
  return d.value;
}

function whole(name: string, text: string, min: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min) usage(`--${name} must be a whole number of at least ${min} (got ${text})`);
  return Number(text);
}

export function parseWaves(text: string | undefined): WaveSize[] {
  if (text === undefined) return [];
  return text.split(',').map((part) => {
    const m = /^([0-9]+)(%?)$/.exec(part.trim());
    if (!m || Number(m[1]) < 1 || (m[2] && Number(m[1]) > 100)) usage(`--waves takes sizes such as 2 or 25%, comma-separated (got ${part})`);
    return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) };
  });
}

async function gatewayList(o: RolloutCliOptions): Promise<string[]> {
  if ((o.gateways === undefined) === (o.gatewaysFile === undefined)) usage('name the gateways with --gateways a,b,c or --gateways-file FILE (one of the two)');
  const text = o.gateways ?? (await readFile(o.gatewaysFile!, 'utf8'));
  const list = text.split(/[\s,]+/).filter((g) => g !== '' && !g.startsWith('#'));
  const bad = list.find((g) => !/^[A-Za-z0-9._-]+$/.test(g));
  if (bad !== undefined) usage(`gateway id ${JSON.stringify(bad)} is not one (letters, digits, ".", "_", "-")`);
  if (list.length === 0) usage('no gateways given');
  if (new Set(list).size !== list.length) usage('a gateway is named twice');
  return list;
}

export async function runRollout(file: string, o: RolloutCliOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const gateways = await gatewayList(o);
  const plan: RolloutPlan = {
    gateways,
    canary: whole('canary', o.canary, 1),
    waves: parseWaves(o.waves),
    watchMs: duration('watch', o.watch),
    statusTimeoutMs: duration('status-timeout', o.statusTimeout),
    maxTraps: whole('max-traps', o.maxTraps, 0),
  };
  if (plan.canary > gateways.length) usage(`--canary ${plan.canary} is more than the ${gateways.length} gateways named`);
  const bytes = await readFile(file);
  const manifest = parsePackage(bytes, file).manifest;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const pkg = { plugin: manifest.name, version: manifest.version, sha256, bytes, ...(o.url ? { url: o.url } : {}) };
  const stages = stagesOf(plan);
  if (!o.json) {
    out(`rollout of ${pkg.plugin} ${pkg.version} (sha256 ${sha256.slice(0, 12)}…, ${bytes.length} bytes, ${o.url ? `fetched from ${o.url}` : 'in the command'}) to ${gateways.length} gateway(s)`);
    out(`stages: ${stages.map((s) => `${s.name} [${s.gateways.join(', ')}]`).join(', then ')}; watch ${plan.watchMs / 1000} s each`);
  }
  const board = await StatusBoard.open({
    url: o.broker, prefix: o.prefix ?? DEFAULT_TOPIC_PREFIX,
    ...(o.username !== undefined && { username: o.username }),
    ...(o.passwordFile !== undefined && { password: (await readFile(o.passwordFile, 'utf8')).replace(/\r?\n$/, '') }),
    ...(o.ca !== undefined && { ca: await readFile(o.ca) }),
  }, gateways);
  let result: RolloutResult;
  try {
    result = await rollout(pkg, plan, board, o.json ? undefined : (e) => out(describe(e)));
  } finally {
    await board.close();
  }
  // Why it stopped goes to stderr also with --json, whose stdout stays one document.
  if (!result.ok) err(`rollout stopped at ${result.stopped!.stage}: ${result.stopped!.reason}`);
  if (o.json) out(JSON.stringify(result, null, 2));
  else if (result.ok) out(`done: ${pkg.plugin} ${pkg.version} runs on ${result.reached.length} of ${gateways.length} gateway(s)`);
  else {
    const back = result.rolledBack.map((r) => `${r.gateway} ${r.outcome}`).join(', ') || 'none had applied it';
    out(`failed: ${pkg.plugin} ${pkg.version} stopped at ${result.stopped!.stage}; rolled back: ${back}`);
  }
  return result.ok ? 0 : 1;
}

function describe(e: RolloutEvent): string {
  if (e.kind === 'stage') return `${e.stage}: installing on ${e.gateways.join(', ')}`;
  if (e.kind === 'watching') return `${e.stage}: watching for ${e.ms / 1000} s`;
  const r = e.result;
  const what = e.phase === 'probe' && r.outcome === 'status' ? 'healthy' : r.outcome;
  return `${e.stage}: ${r.gateway} ${what}${r.code ? ` ${r.code}` : ''}${r.reason && what !== 'healthy' ? `: ${r.reason}` : ''}`;
}
