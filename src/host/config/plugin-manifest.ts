/**
 * A plugin's manifest (`plugin.yaml`): its single declaration of name, kind, ABI version and settings
 * schema. Loading checks the manifest itself (every problem, positioned in the manifest file), then
 * compiles the `with:` schema so that steps can be checked against it.
 */
import { basename, join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { ABI_MAJOR } from '../engine/abi.js';
import { deepFreeze } from './deep-freeze.js';
import { manifestSchema, type ManifestDocument, type PLUGIN_KINDS } from './manifest-schema.js';
import { sortProblems, type ConfigProblem } from './problem.js';
import { constantSchemaValidator, createAjv, describeSchemaErrors, verdictOf, type SchemaFinding } from './schema-errors.js';
import { formatSettingPath, type SettingPath } from './setting-path.js';
import { standaloneValidator } from './standalone-validators.js';
import { YamlSource } from './yaml-source.js';

export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** A JSON Schema as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A manifest as its schema accepted it (`with` defaulted to a schema with no settings), frozen. */
export type PluginManifest = Readonly<ManifestDocument> & {
  /** Absolute path of the manifest file. */
  readonly file: string;
};

/** A plugin as found on disk: its manifest, where its module is, and the check of a step's settings. */
export interface InstalledPlugin {
  readonly manifest: PluginManifest;
  /** Absolute path of the `.wasm` module (not checked to exist: it is a build artefact). */
  readonly wasmPath: string;
  /** Checks `settings` against the manifest's `with:` schema and fills in its defaults, in place. */
  validateSettings(settings: unknown): SchemaFinding[];
}

export type ManifestResult = { ok: true; plugin: InstalledPlugin } | { ok: false; problems: ConfigProblem[] };

/**
 * Loads `<dir>/plugin.yaml`; the module is `<dir>/build/<name>.wasm` and the manifest's name must be
 * the folder's name.
 */
export function loadPluginManifest(dir: string, options: { ajv?: Ajv } = {}): Promise<ManifestResult> {
  const name = basename(dir);
  return loadPluginManifestFile(join(dir, 'plugin.yaml'), { name, wasmPath: join(dir, 'build', `${name}.wasm`), ...options });
}

export interface ManifestOptions {
  /** What the manifest must call itself. */
  name: string;
  wasmPath: string;
  ajv?: Ajv;
  /**
   * A package's manifest (written by `plugin pack`): `sha256` and `imports` must be given. Outside a
   * package `sha256` is refused, since nothing would keep it true of a module that is rebuilt.
   */
  packaged?: boolean;
}

/** Loads the manifest at `file` for the module at `wasmPath`. */
export async function loadPluginManifestFile(file: string, options: ManifestOptions): Promise<ManifestResult> {
  const read = await YamlSource.read(file);
  if (!read.ok) return read;
  return checkPluginManifest(read.source, options);
}

/** Checks a manifest already read (a package's, read from its archive; `source.file` names where). */
export function checkPluginManifest(source: YamlSource, options: ManifestOptions): ManifestResult {
  const file = source.file;
  const ajv = options.ajv ?? createAjv();
  const data = source.data as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  const report = (path: SettingPath, detail: string, anchor: 'key' | 'value' = 'value'): void => {
    problems.push(source.problem(path, 'WG_ERR_PLUGIN_MANIFEST', { detail }, anchor));
  };

  const checkManifest = constantSchemaValidator(manifestSchema);
  const findings = checkManifest(data) ? [] : describeSchemaErrors(checkManifest.errors, data);
  for (const f of findings) report(f.path, f.detail, f.anchor);
  // Each later check reads only settings the schema accepted, so one mistake does not hide the others.
  const verdict = verdictOf(findings);
  if (verdict.clean(['name']) && data.name !== options.name) {
    report(['name'], `name "${String(data.name)}" must be "${options.name}", the name the plugin is found by`);
  }
  if (verdict.clean(['abi']) && Math.trunc(data.abi as number) !== ABI_MAJOR) {
    report(['abi'], `ABI ${String(data.abi)} is not spoken by this host (ABI ${ABI_MAJOR})`);
  }
  if (options.packaged) {
    for (const key of ['sha256', 'imports']) {
      if (!source.has([key])) report([], `a package's manifest must give ${key} (wasmgate plugin pack writes it)`);
    }
  } else if (verdict.clean(['sha256']) && data.sha256 !== undefined) {
    report(['sha256'], "sha256 belongs in a package's manifest, where wasmgate plugin pack writes it; a plugin folder's module is rebuilt, so remove it here", 'key');
  }
  if (!verdict.clean(['with'])) return { ok: false, problems: sortProblems(problems) };

  const withSchema = data.with as Record<string, unknown>;
  const before = problems.length;
  lintNested(withSchema, ['with'], report, true);
  let validate: ValidateFunction | undefined;
  // A built-in plugin's settings schema, unchanged since the build, was compiled (and so checked) by it.
  if (problems.length === before) validate = standaloneValidator(withSchema);
  if (problems.length === before && !validate) {
    try {
      validate = ajv.compile(withSchema);
    } catch (err) {
      const message = (err as Error).message;
      // ajv names an unknown keyword but not where it is; find it, so the problem points at the typo.
      const keyword = /unknown keyword: "(.*)"/.exec(message)?.[1];
      const at = keyword === undefined ? undefined : findKey(withSchema, keyword, ['with']);
      report(at ?? ['with'], `not a valid schema: ${message}`, at ? 'key' : 'value');
    }
  }
  if (validate) checkDeclaredValues(withSchema, validate, report);
  if (problems.length > 0 || !validate) return { ok: false, problems: sortProblems(problems) };

  const manifest: PluginManifest = deepFreeze({ ...(data as ManifestDocument), file });
  const settingsCheck = validate;
  return {
    ok: true,
    plugin: Object.freeze({
      manifest,
      wasmPath: options.wasmPath,
      validateSettings(settings: unknown): SchemaFinding[] {
        return settingsCheck(settings) ? [] : describeSchemaErrors(settingsCheck.errors, settings);
      },
    }),
  };
}

/**
 * Below the top level: every object schema that lists properties must close itself (unknown keys are
 * errors at every depth), and every property says what it is.
 */
function lintNested(
  schema: Record<string, unknown>,
  path: SettingPath,
  report: (path: SettingPath, detail: string) => void,
  top: boolean,
): void {
  if (schema.properties !== undefined && schema.additionalProperties === undefined) {
    report(path, 'declares properties but no additionalProperties: set false (or a schema for map values) so unknown keys are errors');
  }
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    if (!isSchemaObject(sub)) continue;
    if (!top) {
      for (const required of ['type', 'description']) {
        if (sub[required] === undefined) report([...path, 'properties', key], `property "${key}" needs "${required}"`);
      }
    }
    lintNested(sub, [...path, 'properties', key], report, false);
  }
  for (const keyword of ['additionalProperties', 'items']) {
    const sub = schema[keyword];
    if (isSchemaObject(sub)) lintNested(sub, [...path, keyword], report, false);
  }
}

/**
 * The declared default and every example of each property must pass the property's schema. Each is
 * checked as the only setting of a step, through the settings validator itself (no extra compile).
 */
function checkDeclaredValues(
  withSchema: Record<string, unknown>,
  validateAll: ValidateFunction,
  report: (path: SettingPath, detail: string) => void,
): void {
  for (const [key, sub] of Object.entries(withSchema.properties as Record<string, Record<string, unknown>>)) {
    const values: [SettingPath, unknown][] = [[['with', 'properties', key, 'default'], sub.default]];
    (sub.examples as unknown[]).forEach((example, i) => values.push([['with', 'properties', key, 'examples', i], example]));
    for (const [path, value] of values) {
      // Validation fills defaults in place; the manifest's own values must stay as written.
      const probe = { [key]: structuredClone(value) };
      if (validateAll(probe)) continue;
      const own = describeSchemaErrors(validateAll.errors, probe).filter((f) => f.path[0] === key);
      const first = own[0];
      if (!first) continue;
      const inner = first.path.slice(1);
      const where = inner.length > 0 ? `${formatSettingPath(inner)} ` : '';
      report(path, `does not match the property's schema: ${where}${first.detail}`);
    }
  }
  if (!validateAll({})) report(['with'], 'a step that gives no settings must be valid: give every required property a default');
}

/** The path of the first map key named `key` in `value`, depth first. */
function findKey(value: unknown, key: string, path: SettingPath): SettingPath | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, key)) return [...path, key];
  for (const [k, v] of Object.entries(value)) {
    const found = findKey(v, key, [...path, Array.isArray(value) ? Number(k) : k]);
    if (found) return found;
  }
  return undefined;
}

function isSchemaObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
