/**
 * Turns ajv's errors into findings an operator can act on: the setting path, whether the position is
 * the key (unknown setting) or the value, and a sentence in plain words. ajv is configured here too,
 * so every schema in the config area is compiled with the same strictness.
 */
import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import { pointerToPath, type SettingPath } from './setting-path.js';
import { PATTERN_MEANINGS } from './schema-fragments.js';
import type { Anchor } from './yaml-source.js';

/** What the schema thought of each part of a document. */
export interface SchemaVerdict {
  /** Nothing at, above or below `path` was refused: the value there has the type the schema says. */
  clean(path: SettingPath): boolean;
  /** Nothing at or above `path` was refused: it is a map or list as declared, though parts of it may not be. */
  intact(path: SettingPath): boolean;
}

/**
 * The verdict of a set of findings. Unknown keys do not spoil their map: they sit beside the
 * settings, which keep their types.
 */
export function verdictOf(findings: readonly SchemaFinding[]): SchemaVerdict {
  const spoiled = findings.filter((f) => f.anchor === 'value').map((f) => f.path);
  return {
    clean: (path) => !spoiled.some((bad) => startsWith(bad, path) || startsWith(path, bad)),
    intact: (path) => !spoiled.some((bad) => startsWith(path, bad)),
  };
}

function startsWith(path: SettingPath, prefix: SettingPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);
}

/** A schema failure located in the validated data. */
export interface SchemaFinding {
  path: SettingPath;
  anchor: Anchor;
  detail: string;
}

/**
 * All errors, defaults filled in, unknown keywords in schemas refused (a typo in a manifest schema
 * must not silently weaken it), union types allowed for "a string with a unit or a plain number".
 * Code optimisation is off: it halves compile time, and a config is validated once, not in a loop.
 */
export function createAjv(): Ajv {
  return new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true, code: { optimize: false } });
}

/**
 * The validator of one of the config area's own constant schemas (gateway, pipeline, manifest),
 * compiled once per process: compiling costs tens of milliseconds, which start-up should pay once and
 * `validate` runs should not pay per file. Plugin settings schemas are compiled per PluginCatalog.
 */
export function constantSchemaValidator(schema: AnySchema): ValidateFunction {
  let validate = compiledConstants.get(schema);
  if (!validate) {
    constantsAjv ??= createAjv();
    validate = constantsAjv.compile(schema);
    compiledConstants.set(schema, validate);
  }
  return validate;
}
let constantsAjv: Ajv | undefined;
const compiledConstants = new Map<AnySchema, ValidateFunction>();

/** `fromEnv`: the variable a setting's value came from, named in place of the value (it may be a secret). */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined, data: unknown, fromEnv?: (path: SettingPath) => string | undefined): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const err of errors ?? []) {
    const finding = describe(err, data, fromEnv);
    if (finding) findings.push(finding);
  }
  return findings;
}

function describe(err: ErrorObject, data: unknown, fromEnv?: (path: SettingPath) => string | undefined): SchemaFinding | undefined {
  const at = pointerToPath(err.instancePath, data);
  const params = err.params as Record<string, unknown>;
  const parent = (err.parentSchema ?? {}) as Record<string, unknown>;
  const variable = fromEnv?.(at);
  const got = variable === undefined ? `(got ${show(err.data)})` : `(got the value of \${${variable}})`;
  // propertyNames reports the failing name twice: once from the inner keyword (with propertyName), once itself.
  if (err.keyword === 'propertyNames') return undefined;
  if (err.propertyName !== undefined) {
    return { path: [...at, err.propertyName], anchor: 'key', detail: `name "${err.propertyName}" must be ${meaning(err)}` };
  }
  switch (err.keyword) {
    case 'required':
      return { path: [...at, String(params.missingProperty)], anchor: 'value', detail: 'required setting is missing' };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as object);
      return { path: [...at, key], anchor: 'key', detail: `unknown setting "${key}"${suggest(key, known)}` };
    }
    case 'type':
      return { path: at, anchor: 'value', detail: `must be ${typeWords(String(params.type))} ${got}` };
    case 'enum':
      return { path: at, anchor: 'value', detail: `must be one of ${(params.allowedValues as unknown[]).map(show).join(', ')} ${got}` };
    case 'const':
      return { path: at, anchor: 'value', detail: `must be ${show(params.allowedValue)} ${got}` };
    case 'pattern':
      return { path: at, anchor: 'value', detail: `must be ${meaning(err)} ${got}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path: at, anchor: 'value', detail: `must be ${String(params.comparison)} ${String(params.limit)} ${got}` };
    case 'minLength':
      return { path: at, anchor: 'value', detail: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters ${got}` };
    case 'maxLength':
      return { path: at, anchor: 'value', detail: `must be at most ${String(params.limit)} characters` };
    case 'minItems':
      return { path: at, anchor: 'value', detail: `must list at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}` };
    case 'maxItems':
      return { path: at, anchor: 'value', detail: `must list at most ${String(params.limit)} items` };
    case 'minProperties':
    case 'maxProperties':
      return { path: at, anchor: 'value', detail: entriesWords(err, parent) };
    default:
      return { path: at, anchor: 'value', detail: err.message ?? err.keyword };
  }
}

/** "exactly one of: mqtt" for a one-key choice (a transport, a source), else a count. */
function entriesWords(err: ErrorObject, parent: Record<string, unknown>): string {
  const choices = Object.keys((parent.properties ?? {}) as object);
  if (parent.minProperties === 1 && parent.maxProperties === 1 && choices.length > 0) {
    const given = Object.keys((err.data ?? {}) as object);
    return `must hold exactly one of: ${choices.join(', ')}${given.length > 0 ? ` (got ${given.join(', ')})` : ''}`;
  }
  const limit = String((err.params as { limit: number }).limit);
  return err.keyword === 'minProperties' ? `must have at least ${limit} entr${limit === '1' ? 'y' : 'ies'}` : `must have at most ${limit} entries`;
}

function meaning(err: ErrorObject): string {
  const pattern = String((err.params as { pattern?: string }).pattern);
  return PATTERN_MEANINGS.get(pattern) ?? `text matching ${pattern}`;
}

function typeWords(types: string): string {
  const words: Record<string, string> = {
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
    object: 'a map of settings',
    array: 'a list',
    null: 'empty',
  };
  return types
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

/** A short rendering of a YAML value for messages. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function suggest(key: string, known: string[]): string {
  if (known.length === 0) return '; nothing may be set here';
  const close = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= Math.max(1, Math.floor(k.length / 4)));
  if (close.length > 0) return ` (did you mean "${close[0]}"?)`;
  return `; known: ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}
