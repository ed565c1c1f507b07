/**
 * Loads a gateway file, every pipeline file it lists and every plugin manifest their steps name;
 * checks all of it and either returns every problem found or the resolved, frozen configuration.
 * Nothing is resolved while any problem remains, so no component ever sees a half-valid config.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AnySchema } from 'ajv';
import type { GatewayDocument } from './gateway-schema.js';
import type { PipelineDocument } from './pipeline-schema.js';
import { checkGateway } from './gateway-checks.js';
import { gatewaySchema } from './gateway-schema.js';
import { PluginCatalog } from './plugin-catalog.js';
import { PluginRegistry } from '../packages/plugin-registry.js';
import type { InstalledPlugin } from './plugin-manifest.js';
import { checkPipeline } from './pipeline-checks.js';
import { pipelineSchema } from './pipeline-schema.js';
import { sortProblems, type ConfigHint, type ConfigProblem } from './problem.js';
import { dataDirOf, resolveGateway, pluginDirsOf } from './resolve-gateway.js';
import type { CheckedPipeline } from './resolve-pipeline.js';
import type { ResolvedGateway } from './resolved.js';
import { constantSchemaValidator, describeSchemaErrors, verdictOf, type SchemaVerdict } from './schema-errors.js';
import { SettingChecks } from './setting-checks.js';
import { checkSteps } from './step-checks.js';
import { checkSharedBuses } from './shared-bus-checks.js';
import { checkSubscriptionLoops, mqttSubscriptions } from './subscription-loop-checks.js';
import { checkSubscriptionClientIds } from './subscription-client-id-checks.js';
import { checkPushPorts } from './push-port-checks.js';
import { YamlSource } from './yaml-source.js';
import { checkRules, checkRulesCompile } from '../rules/rule-checks.js';
import { parseSize } from './units.js';
import { rulePoints } from '../rules/rule-points.js';
import type { RuleSet } from '../rules/rule-set.js';

/** `hints`: valid settings that are likely mistakes, in file order, whether or not the load succeeded. */
export type LoadResult = { ok: true; config: ResolvedGateway; hints: ConfigHint[] } | { ok: false; problems: ConfigProblem[]; hints: ConfigHint[] };

/** What one pipeline file yielded: its problems, and what resolution needs when there are none. */
interface PipelineOutcome {
  problems: ConfigProblem[];
  checked?: CheckedPipeline;
  /** The pipeline's name and the source it is written in, when the schema accepted it. */
  named?: { name: string; source: YamlSource };
}

/**
 * Loads and checks `file` (a gateway file; relative to the working directory) and everything it
 * refers to. Never throws for a problem in the files: every problem comes back, positioned.
 */
export async function loadGatewayConfig(file: string): Promise<LoadResult> {
  const gatewayFile = resolve(file);
  const read = await YamlSource.read(gatewayFile);
  if (!read.ok) return { ok: false, problems: read.problems, hints: [] };
  const source = read.source;
  const misplaced = notAGatewayFile(source);
  if (misplaced) return { ok: false, problems: [misplaced], hints: [] };
  const problems: ConfigProblem[] = [];
  const hints: ConfigHint[] = [];
  const verdict = validate(gatewaySchema, source, problems);
  const doc = source.data as GatewayDocument;
  await checkGateway(doc, new SettingChecks(source, verdict, problems, hints));

  // Pipelines are checked even when the gateway file has problems, with whatever of it is usable.
  const uplinkNames = isMap(doc?.uplinks) ? new Set(Object.keys(doc.uplinks)) : undefined;
  const base = resolve(gatewayFile, '..');
  // The registry is where data_dir says; with data_dir wrong, steps are looked up in the directories only.
  const registry = isMap(doc?.gateway) && verdict.clean(['gateway', 'data_dir']) ? new PluginRegistry(dataDirOf(doc, base)) : undefined;
  const catalog = verdict.clean(['gateway', 'plugin_dirs']) || !source.has(['gateway', 'plugin_dirs'])
    ? new PluginCatalog(pluginDirsOf(isMap(doc?.gateway) ? doc : undefined, base), registry ? { registry } : {})
    : undefined;
  const grant = isMap(doc?.plugins) && verdict.clean(['plugins', 'grant']) ? doc.plugins.grant : undefined;
  const listed = Array.isArray(doc?.pipelines) ? doc.pipelines : [];
  const files: string[] = [];
  const outcomes: PipelineOutcome[] = [];
  const reportedManifests = new Set<string>();
  for (const [i, written] of listed.entries()) {
    if (!verdict.clean(['pipelines', i])) continue;
    const pipelineFile = resolve(gatewayFile, '..', written);
    const earlier = files.indexOf(pipelineFile);
    files.push(pipelineFile);
    if (earlier >= 0) {
      problems.push(source.problem(['pipelines', i], 'WG_ERR_CONFIG_INVALID', { detail: `lists the same file as pipelines[${earlier}]` }));
      continue;
    }
    if (!(await exists(pipelineFile))) {
      problems.push(source.problem(['pipelines', i], 'WG_ERR_CONFIG_PIPELINE_MISSING', { detail: pipelineFile }));
      continue;
    }
    outcomes.push(await loadPipeline(pipelineFile, uplinkNames, catalog, reportedManifests, hints, grant));
  }

  checkPipelineNames(outcomes);
  for (const outcome of outcomes) problems.push(...outcome.problems);
  const sortedHints = sortProblems(hints, [gatewayFile, ...files]);
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems, [gatewayFile, ...files]), hints: sortedHints };
  const checked = outcomes.map((o) => o.checked as CheckedPipeline);
  const config = await resolveGateway(gatewayFile, doc, checked);
  // What only the pipelines together can contradict: the lines they share, the ports they bind.
  const sources = new Map(outcomes.map((o, i) => [checked[i]!.file, o.named!.source]));
  const across = [
    ...checkSharedBuses(config, (file) => sources.get(file)!),
    ...checkSubscriptionLoops(config, mqttSubscriptions, (file) => sources.get(file)!),
    ...checkPushPorts(config, (file) => sources.get(file)!),
    ...checkSubscriptionClientIds(config, (file) => sources.get(file)!),
  ];
  if (across.length > 0) return { ok: false, problems: sortProblems(across, [gatewayFile, ...files]), hints: sortedHints };
  return { ok: true, config, hints: sortedHints };
}

async function loadPipeline(
  file: string,
  uplinkNames: ReadonlySet<string> | undefined,
  catalog: PluginCatalog | undefined,
  reportedManifests: Set<string>,
  hints: ConfigHint[],
  grant: readonly string[] | undefined,
): Promise<PipelineOutcome> {
  const read = await YamlSource.read(file);
  if (!read.ok) return { problems: read.problems };
  const source = read.source;
  const problems: ConfigProblem[] = [];
  const verdict = validate(pipelineSchema, source, problems);
  const doc = source.data as PipelineDocument;
  const checks = new SettingChecks(source, verdict, problems, hints);
  await checkPipeline(doc, uplinkNames, checks);
  let plugins: (InstalledPlugin | undefined)[] = [];
  if (checks.intact(['steps'])) plugins = await checkSteps(doc.steps, catalog, checks, problems, reportedManifests, grant);
  let rules: RuleSet | undefined;
  if (doc?.rules !== undefined && checks.intact(['rules'])) {
    // Points exist once the source is sound; with it broken, the rules are only parsed.
    const sourceSound = !problems.some((p) => p.file === file && /^(source|profiles)\b/.test(p.path)) && checks.intact(['source']);
    rules = await checkRules(doc.rules, checks, sourceSound ? rulePoints(doc) : undefined, problems, hints);
    const memory = checks.clean(['pipeline', 'plugin_memory']) ? parseSize(doc.pipeline.plugin_memory) : undefined;
    if (rules) checkRulesCompile(rules, doc.pipeline.name, memory?.ok ? memory.value : undefined, checks);
  }
  const named = verdict.clean(['pipeline', 'name']) ? { name: doc.pipeline.name, source } : undefined;
  if (problems.length > 0 || plugins.some((p) => p === undefined)) return { problems, named };
  return { problems, named, checked: { file, doc, plugins: plugins as InstalledPlugin[], ...(rules ? { rules } : {}) } };
}

/**
 * A pipeline file or a plugin manifest given where the gateway file is expected: one problem that says
 * so, instead of a schema error for every key.
 */
function notAGatewayFile(source: YamlSource): ConfigProblem | undefined {
  const data = source.data;
  if (!isMap(data) || 'gateway' in data || 'uplinks' in data) return undefined;
  const kind = 'pipeline' in data || 'source' in data || 'steps' in data ? 'a pipeline file' : 'kind' in data && 'abi' in data ? 'a plugin manifest' : undefined;
  if (kind === undefined) return undefined;
  const detail = `this is ${kind}, not a gateway file: pass the gateway file (gateway:, uplinks:, pipelines:) that lists its pipelines`;
  return source.problem([], 'WG_ERR_CONFIG_INVALID', { detail });
}

/** Pipeline names are unique across the gateway: they name workers, metrics and topics. */
function checkPipelineNames(outcomes: readonly PipelineOutcome[]): void {
  const first = new Map<string, YamlSource>();
  for (const outcome of outcomes) {
    if (!outcome.named) continue;
    const { name, source } = outcome.named;
    const earlier = first.get(name);
    if (earlier === undefined) {
      first.set(name, source);
      continue;
    }
    const at = earlier.positionOf(['pipeline', 'name']);
    outcome.problems.push(
      source.problem(['pipeline', 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'pipeline', name, detail: `${earlier.file}:${at.line}:${at.column}` }),
    );
  }
}

/**
 * Validates the source's data against `schema` (filling in defaults), adds a problem per finding and
 * returns which parts the later checks may read.
 */
function validate(schema: AnySchema, source: YamlSource, problems: ConfigProblem[]): SchemaVerdict {
  const check = constantSchemaValidator(schema);
  const findings = check(source.data) ? [] : describeSchemaErrors(check.errors, source.data, (path) => source.envOrigin(path));
  for (const f of findings) problems.push(source.problem(f.path, 'WG_ERR_CONFIG_INVALID', { detail: f.detail }, f.anchor));
  return verdictOf(findings);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
