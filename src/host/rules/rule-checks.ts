/**
 * Loads and checks a pipeline's `rules:` (and the rules files it includes) into a RuleSet, or
 * reports every problem, each at its file, line and column: inside an expression, at the character
 * that is wrong. Nothing starts with a broken rule set: one problem here refuses the pipeline, as
 * any config problem does. Runs in the config thread, with the rest of the loader (yaml, ajv).
 */
import { dirname, resolve } from 'node:path';
import type { AnySchema } from 'ajv';
import { makeProblem, type ConfigHint, type ConfigProblem } from '../config/problem.js';
import { constantSchemaValidator, describeSchemaErrors, verdictOf, type SchemaVerdict } from '../config/schema-errors.js';
import { SettingChecks } from '../config/setting-checks.js';
import { formatSettingPath, type SettingPath } from '../config/setting-path.js';
import { YamlSource } from '../config/yaml-source.js';
import { parseExpression } from './expression-parser.js';
import { checkCondition, RuleTables, type CheckError, type PointLookup, type RulePoint } from './expression-check.js';
import type { Checked } from './expression.js';
import { relax } from './hysteresis.js';
import { ruleIncludeSchema, ruleSchema, rulesFileSchema, RULE_DEFAULTS, type RuleDocument } from './rule-schema.js';
import type { Rule, RuleSet, RuleWrite } from './rule-set.js';
import { writeRangeProblem } from './write-range.js';
import { compileRuleSet } from './compiled-rules.js';
import { isWgError } from '../errors.js';
import { bacnetValueProblem } from '../sources/bacnet-writable.js';

/** Placeholders of an alarm topic. */
export const ALARM_TOPIC_PLACEHOLDERS = ['gateway', 'pipeline', 'rule'] as const;
/** Bits of the interlock mask an event carries. */
const MAX_WRITES = 16;

interface Place {
  source: YamlSource;
  checks: SettingChecks;
  at: SettingPath;
}

/**
 * `items`: the pipeline's `rules:` as the schema left them (a list of maps); `points`: the pipeline's
 * points, or undefined when its source has problems (then only what needs no point is checked).
 */
export async function checkRules(items: readonly unknown[], pipeline: SettingChecks, points: readonly RulePoint[] | undefined, problems: ConfigProblem[], hints: ConfigHint[]): Promise<RuleSet | undefined> {
  const before = problems.length;
  const written: Array<{ doc: RuleDocument; place: Place }> = [];
  const included = new Set<string>();
  for (const [i, item] of items.entries()) {
    const at: SettingPath = ['rules', i];
    if (isMap(item) && 'include' in item) {
      if (!validateAt(ruleIncludeSchema, item, pipeline.source, at, problems).clean(at)) continue;
      const file = resolve(dirname(pipeline.source.file), String(item.include));
      if (included.has(file)) {
        pipeline.invalid([...at, 'include'], `${file} is included twice`);
        continue;
      }
      included.add(file);
      written.push(...(await readRulesFile(file, pipeline, [...at, 'include'], problems, hints)));
    } else if (isMap(item)) {
      const verdict = validateAt(ruleSchema, item, pipeline.source, at, problems);
      // Checked further with the verdict of this rule alone: a wrong `for:` does not hide a wrong `when:`.
      written.push({ doc: item as RuleDocument, place: { source: pipeline.source, checks: new SettingChecks(pipeline.source, verdict, problems, hints), at } });
    }
  }
  const lookup: PointLookup | undefined = points && { points };
  const tables = new RuleTables();
  const rules: Rule[] = [];
  const names = new Map<string, Place>();
  for (const { doc, place } of written) {
    const earlier = place.checks.clean([...place.at, 'name']) ? names.get(doc.name) : undefined;
    if (earlier) {
      place.checks.report([...place.at, 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'rule', name: doc.name, detail: `${earlier.source.file}:${earlier.source.positionOf([...earlier.at, 'name']).line}` });
    } else names.set(doc.name, place);
    const rule = checkRule(doc, place, lookup, tables, rules.length, problems);
    if (rule) rules.push(rule);
  }
  if (problems.length > before || !points) return undefined;
  return { rules, windows: tables.windows, counters: tables.counters, pointCount: points.length };
}

/**
 * Compiles the rule set as a start will, so that one whose module cannot run (its windows need more
 * memory than plugin_memory allows, more points than a table holds) is refused at load, not at start.
 */
export function checkRulesCompile(set: RuleSet, pipeline: string, memoryBytes: number | undefined, checks: SettingChecks): void {
  if (set.rules.length === 0) return;
  try {
    compileRuleSet(set, pipeline, memoryBytes);
  } catch (err) {
    if (!isWgError(err)) throw err;
    checks.invalid(['rules'], `the rules compile into a module that cannot run: ${err.message} (windows hold 16 bytes a sample; raise pipeline.plugin_memory or shorten the windows)`);
  }
}

async function readRulesFile(file: string, pipeline: SettingChecks, at: SettingPath, problems: ConfigProblem[], hints: ConfigHint[]): Promise<Array<{ doc: RuleDocument; place: Place }>> {
  const read = await YamlSource.read(file);
  if (!read.ok) {
    // Said where the include is written, and what is wrong in the file itself.
    pipeline.report(at, 'WG_ERR_CONFIG_FILE_UNREADABLE', { target: `rules file ${file}`, detail: read.problems[0]!.message });
    if (read.problems[0]!.code !== 'WG_ERR_CONFIG_READ') problems.push(...read.problems);
    return [];
  }
  const source = read.source;
  const found: ConfigProblem[] = [];
  const check = constantSchemaValidator(rulesFileSchema as AnySchema);
  const findings = check(source.data) ? [] : describeSchemaErrors(check.errors, source.data, (path) => source.envOrigin(path));
  for (const f of findings) found.push(source.problem(f.path, 'WG_ERR_CONFIG_INVALID', { detail: f.detail }, f.anchor));
  problems.push(...found);
  const checks = new SettingChecks(source, verdictOf(findings), problems, hints);
  if (!checks.intact(['rules'])) return [];
  const list = (source.data as { rules: RuleDocument[] }).rules;
  return list.flatMap((doc, j) => (checks.intact(['rules', j]) ? [{ doc, place: { source, checks, at: ['rules', j] as SettingPath } }] : []));
}

/**
 * Validates one item in place (its defaults filled in) and reports what is wrong; the verdict says
 * which of its settings the checks after the schema may read.
 */
function validateAt(schema: object, item: unknown, source: YamlSource, at: SettingPath, problems: ConfigProblem[]): SchemaVerdict {
  const check = constantSchemaValidator(schema as AnySchema);
  if (check(item)) return verdictOf([]);
  const findings = describeSchemaErrors(check.errors, item, (path) => source.envOrigin([...at, ...path]));
  for (const f of findings) problems.push(source.problem([...at, ...f.path], 'WG_ERR_CONFIG_INVALID', { detail: f.detail }, f.anchor));
  return verdictOf(findings.map((f) => ({ ...f, path: [...at, ...f.path] })));
}

function checkRule(doc: RuleDocument, place: Place, lookup: PointLookup | undefined, tables: RuleTables, index: number, problems: ConfigProblem[]): Rule | undefined {
  const { checks, at } = place;
  const before = problems.length;
  const ok = (...key: SettingPath) => checks.clean([...at, ...key]);
  const expression = (key: SettingPath, text: string) => condition(text, place, [...at, ...key], doc.name, lookup, tables, problems);
  const when = ok('when') ? expression(['when'], doc.when) : undefined;
  const clear = doc.clear === undefined || !ok('clear') ? undefined : expression(['clear'], doc.clear);
  const forMs = checks.duration([...at, 'for'], doc.for);
  if (doc.clear !== undefined && doc.hysteresis !== undefined) {
    checks.conflict([...at, 'hysteresis'], [...at, 'clear'], 'hysteresis and clear exclude each other: clear says when the rule clears, hysteresis derives it from when');
  }
  let relaxed: Checked | null = null;
  if (doc.hysteresis !== undefined && ok('hysteresis') && when) {
    const outcome = relax(when.checked, doc.hysteresis);
    if (outcome.ok) relaxed = outcome.relaxed;
    else checks.report([...at, 'hysteresis'], 'WG_ERR_CONFIG_RULE', { rule: doc.name, detail: outcome.reason });
  }
  const actions = ok('actions') ? doc.actions : undefined;
  const alarm = actions?.alarm;
  const alarmTopic = alarm === false ? null : typeof alarm === 'object' && alarm.topic !== undefined ? alarm.topic : RULE_DEFAULTS.alarmTopic;
  if (typeof alarm === 'object' && alarm.topic !== undefined) checkTopic(alarm.topic, place, [...at, 'actions', 'alarm', 'topic'], doc.name);
  const perMs = actions && checks.duration([...at, 'actions', 'rate_limit', 'per'], actions.rate_limit.per, true);
  const interlocks: Checked[] = [];
  const writes: RuleWrite[] = [];
  const points = new Set<number>([...(when?.points ?? []), ...(clear?.points ?? [])]);
  (actions?.write ?? []).forEach((w, k) => {
    const wat: SettingPath = [...at, 'actions', 'write', k];
    const target = lookup ? writeTarget(w.point, place, [...wat, 'point'], doc.name, lookup) : undefined;
    let interlock: number | null = null;
    if (w.interlock !== undefined) {
      const checked = condition(w.interlock, place, [...wat, 'interlock'], doc.name, lookup, tables, problems);
      if (checked) {
        for (const p of checked.points) points.add(p);
        interlock = interlocks.length;
        interlocks.push(checked.checked);
      }
    }
    if (!target) return;
    const value = writeValue(w.value, target, place, [...wat, 'value'], doc.name);
    const onClear = clearValue(w.on_clear, target, place, [...wat, 'on_clear'], doc.name);
    if (value === undefined || onClear === undefined) return;
    writes.push({ point: target.id, pointName: target.name, device: target.deviceIndex, deviceName: target.device, value, onClear, interlock });
  });
  if (problems.length > before || !when || !actions || forMs === undefined || perMs === undefined || (doc.clear !== undefined && !clear)) return undefined;
  const where = place.source.positionOf([...at, 'name']);
  return {
    index,
    name: doc.name,
    origin: `${place.source.file}:${where.line}`,
    text: doc.when,
    when: when.checked,
    clear: clear?.checked ?? null,
    relaxed,
    forMs,
    severity: doc.severity,
    message: doc.message ?? '',
    points: [...points].sort((a, b) => a - b),
    interlocks,
    actions: { alarmTopic, log: actions.log, writes, rateLimit: { writes: actions.rate_limit.writes, perMs }, dryRun: actions.dry_run },
  };
}

/** Parses and checks one expression; problems are positioned at the character they concern. */
function condition(text: string, place: Place, path: SettingPath, rule: string, lookup: PointLookup | undefined, tables: RuleTables, problems: ConfigProblem[]): { checked: Checked; points: Set<number> } | undefined {
  const parsed = parseExpression(text);
  if (!parsed.ok) {
    problems.push(expressionProblem(place, path, rule, { span: { start: parsed.error.offset, end: parsed.error.offset }, message: parsed.error.message }));
    return undefined;
  }
  if (!lookup) return undefined;
  const checked = checkCondition(parsed.expr, lookup, tables);
  if (!checked.ok) {
    for (const e of checked.errors) problems.push(expressionProblem(place, path, rule, e));
    return undefined;
  }
  return { checked: checked.checked, points: checked.points };
}

function expressionProblem(place: Place, path: SettingPath, rule: string, error: CheckError): ConfigProblem {
  const at = place.source.positionWithin(path, error.span.start);
  return makeProblem({ file: place.source.file, line: at.line, column: at.column, path: formatSettingPath(path) }, 'WG_ERR_CONFIG_RULE', { rule, detail: error.message });
}

function writeTarget(text: string, place: Place, path: SettingPath, rule: string, lookup: PointLookup): RulePoint | undefined {
  const parsed = parseExpression(text);
  if (!parsed.ok || parsed.expr.kind !== 'point') {
    place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `${JSON.stringify(text)} is not a point: write its name, or device:name` });
    return undefined;
  }
  const { name, device } = parsed.expr;
  const named = lookup.points.filter((p) => p.name === name && (device === null || p.device === device));
  if (named.length !== 1) {
    const why = named.length === 0 ? `no point ${device !== null ? `${name} on device ${device}` : name} in this pipeline` : `point ${name} is on devices ${named.map((p) => p.device).join(', ')}: say which, as ${named[0]!.device}:${name}`;
    place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: why });
    return undefined;
  }
  const point = named[0]!;
  if (point.writable && point.bacnetWrite && point.writePriority == null) {
    // Without one the device commands at 16, most often the schedule's slot, and the clear's relinquish
    // would empty that: a rule's command must say where in the priority array it goes.
    place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `BACnet point ${point.name} of device ${point.device} has no write_priority: a rule's command needs one (8 manual operator, 5 critical equipment; not 6), or its relinquish would empty priority 16, often the schedule's` });
    return undefined;
  }
  if (!point.writable) {
    place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `point ${point.name} of device ${point.device} is read-only (access: read, or a function that cannot be written): declare access: write or read_write on a coil or holding register, or on a BACnet output or value object's present-value` });
    return undefined;
  }
  return point;
}

/**
 * What a clear writes back: a value, `relinquish` (a BACnet point's Null at its priority, which
 * hands the object back to the next command or its relinquish default) or `none` (null). Absent: none
 * for a Modbus point, relinquish for a BACnet one, since a command left in a priority array holds the
 * object until someone relinquishes it, which is what a BACnet engineer expects the gateway to do.
 */
function clearValue(value: number | boolean | string | undefined, point: RulePoint, place: Place, path: SettingPath, rule: string): number | 'relinquish' | null | undefined {
  if (value === undefined) return point.bacnetWrite ? 'relinquish' : null;
  if (value === 'none') return null;
  if (value === 'relinquish') {
    if (point.bacnetWrite) return 'relinquish';
    return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `relinquish empties a BACnet point's priority; ${point.name} is a Modbus point: write back a value, or none` });
  }
  if (typeof value === 'string') return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `on_clear takes a value, relinquish or none (got ${JSON.stringify(value)})` });
  return writeValue(value, point, place, path, rule);
}

function writeValue(value: number | boolean, point: RulePoint, place: Place, path: SettingPath, rule: string): number | undefined {
  if (point.bacnetWrite) {
    // A binary object takes true/false as active/inactive; the datatype decides what fits (bacnet-writable.ts).
    const n = typeof value === 'boolean' ? (point.bacnetWrite === 'binary' ? Number(value) : NaN) : value;
    // NaN (true for a non-binary point, or YAML's .nan) would relinquish: that is on_clear's word, not a value.
    const problem = Number.isNaN(n) ? `a ${point.bacnetWrite} present-value takes a number (true and false only a binary one's)` : bacnetValueProblem(point.bacnetWrite, n);
    if (problem !== undefined) return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `${point.name} of device ${point.device}: ${problem} (got ${String(value)})` });
    return n;
  }
  if (point.bool) {
    if (value === true || value === 1) return 1;
    if (value === false || value === 0) return 0;
    return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `${point.name} is a bool point: write true or false (got ${String(value)})` });
  }
  if (typeof value === 'boolean') return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `${point.name} is a number point: write a number (got ${String(value)})` });
  const problem = point.range ? writeRangeProblem(value, point.range) : null;
  if (problem !== null) return void place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: `${point.name} of device ${point.device} cannot take it: ${problem}` });
  return value;
}

function checkTopic(topic: string, place: Place, path: SettingPath, rule: string): void {
  for (const m of topic.matchAll(/\{([^}]*)\}/g)) {
    if (!(ALARM_TOPIC_PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
      place.checks.report(path, 'WG_ERR_CONFIG_UNKNOWN_PLACEHOLDER', { detail: `{${m[1]}}`, known: ALARM_TOPIC_PLACEHOLDERS.map((p) => `{${p}}`).join(' ') });
    }
  }
  if (/[#+]/.test(topic)) place.checks.report(path, 'WG_ERR_CONFIG_RULE', { rule, detail: 'an MQTT topic to publish to may not hold the wildcards # or +' });
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
