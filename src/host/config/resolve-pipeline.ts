/**
 * Turns a checked pipeline document into a `ResolvedPipeline`: units converted, paths absolute, the
 * defaults that depend on other settings applied. Only called once every check has passed, so each
 * conversion here is known to succeed.
 */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { defaultPublishQos } from './defaults.js';
import type { PipelineDocument } from './pipeline-schema.js';
import type { BackoffDocument } from './schema-fragments.js';
import type { InstalledPlugin } from './plugin-manifest.js';
import { SourceBuilder } from '../sources/source-builder.js';
import { writtenKinds } from '../sources/source-kinds.js';
import type { JsonValue, Qos, ResolvedBackoff, ResolvedPipeline, ResolvedStep } from './resolved.js';
import { parseDuration, parseSize, type Conversion } from './units.js';
import { EMPTY_RULE_SET, type RuleSet } from '../rules/rule-set.js';

export interface CheckedPipeline {
  file: string;
  doc: PipelineDocument;
  /** The plugin of each step, in step order. */
  plugins: readonly InstalledPlugin[];
  /** Its rules, checked (rule-checks.ts); absent when it has none. */
  rules?: RuleSet;
}

export function resolvePipeline(checked: CheckedPipeline, uplinkQos: ReadonlyMap<string, Qos>): ResolvedPipeline {
  const { doc, file, plugins } = checked;
  const build = new SourceBuilder(doc.profiles, dirname(file));
  for (const kind of writtenKinds(doc.source)) {
    const written = doc.source[kind.name];
    build.kind(kind.name);
    kind.resolve(written, ['source', kind.name], build);
  }

  const steps: ResolvedStep[] = doc.steps.map((step, index) => {
    const plugin = plugins[index] as InstalledPlugin;
    return {
      index,
      plugin: plugin.manifest.name,
      kind: plugin.manifest.kind,
      manifest: plugin.manifest,
      wasmPath: plugin.wasmPath,
      with: step.with as { [key: string]: JsonValue },
    };
  });

  return {
    name: doc.pipeline.name,
    file,
    batch: { maxRecords: doc.pipeline.batch.max_records, deadlineMs: known(parseDuration(doc.pipeline.batch.deadline)) },
    ring: { ingressBytes: known(parseSize(doc.pipeline.ring.ingress)), egressBytes: known(parseSize(doc.pipeline.ring.egress)) },
    pluginMemoryBytes: known(parseSize(doc.pipeline.plugin_memory)),
    swap: {
      canaryDeadlineMs: known(parseDuration(doc.pipeline.swap.canary_deadline)),
      rollbackTraps: doc.pipeline.swap.rollback_traps,
      rollbackWindowMs: known(parseDuration(doc.pipeline.swap.rollback_window)),
    },
    source: build.build(),
    points: build.points,
    steps,
    rules: checked.rules ?? { ...EMPTY_RULE_SET, pointCount: build.points.length },
    publish: {
      uplink: doc.publish.uplink,
      topic: doc.publish.topic,
      qos: doc.publish.qos ?? defaultPublishQos(uplinkQos.get(doc.publish.uplink) as Qos),
      retain: doc.publish.retain,
    },
  };
}

export function backoff(doc: BackoffDocument): ResolvedBackoff {
  return { minMs: known(parseDuration(doc.min)), maxMs: known(parseDuration(doc.max)) };
}

/** The value of a conversion the checks already accepted. */
export function known(conversion: Conversion): number {
  // An invariant, not an operator error: the checks run first and refuse every value that fails here.
  assert.ok(conversion.ok, 'resolver reached a value the checks refused');
  return conversion.value;
}
