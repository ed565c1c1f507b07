/**
 * `${NAME}` in any setting's value: replaced by the environment variable NAME when the file is read,
 * so a unit's `Environment=`/`EnvironmentFile=` (or a container's env) fills in what differs per site
 * or must stay out of the file: a broker password, a gateway id, a host name. `${NAME:-fallback}`
 * uses `fallback` when NAME is unset or empty; `$${` is a literal `${`.
 *
 * Replaced in the parsed tree, one scalar at a time, never in the text: a value from the environment
 * is data and cannot add settings, keys or YAML syntax (a password holding `: ` or `#` stays one
 * string). A plain (unquoted) value that is one reference and nothing else takes the type the
 * variable's text has in YAML, as if it had been written there (`port: ${MQTT_PORT}` is a number);
 * quoted, or with text around it, it stays a string. Keys are never replaced.
 *
 * Which settings came from which variable is kept, so a problem with one names the variable rather
 * than printing its value (it may be a secret).
 */
import { isMap, isScalar, isSeq, parse, Scalar, type Document } from 'yaml';
import type { SettingPath } from './setting-path.js';

/** What the environment filled in: setting path (as text) → the variable it came from. */
export type EnvOrigins = ReadonlyMap<string, string>;

export interface EnvProblem {
  offset: number;
  path: SettingPath;
  detail: string;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces every reference in `doc`'s values, in place; returns where they came from, and what could not be replaced. */
export function expandEnvReferences(doc: Document.Parsed, env: NodeJS.ProcessEnv): { origins: Map<string, string>; problems: EnvProblem[] } {
  const origins = new Map<string, string>();
  const problems: EnvProblem[] = [];
  const pending: Array<{ node: unknown; path: SettingPath }> = [{ node: doc.contents, path: [] }];
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined) pending.push({ node: pair.value, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => pending.push({ node: item, path: [...path, i] }));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      expandScalar(node, path, env, origins, problems);
    }
  }
  return { origins, problems: problems.sort((a, b) => a.offset - b.offset) };
}

function expandScalar(node: Scalar, path: SettingPath, env: NodeJS.ProcessEnv, origins: Map<string, string>, problems: EnvProblem[]): void {
  const text = node.value as string;
  const offset = node.range?.[0] ?? 0;
  const names: string[] = [];
  let failed = false;
  const expanded = text.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const [name, fallback] = splitFallback(inner);
    if (!NAME.test(name)) {
      problems.push({ offset, path, detail: `\${${inner}} is not a reference to an environment variable: write \${NAME} or \${NAME:-fallback} with a name of letters, digits and _, or $\${ for a literal \${` });
      failed = true;
      return whole;
    }
    names.push(name);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push({ offset, path, detail: value === undefined ? `environment variable ${name} is not set` : `environment variable ${name} is empty` });
    failed = true;
    return whole;
  });
  if (failed) return;
  if (names.length > 0) origins.set(originKey(path), names.join(', '));
  const wholeReference = names.length === 1 && /^\$\{[^}]*\}$/.test(text);
  node.value = wholeReference && node.type === Scalar.PLAIN ? typedAsYaml(expanded) : expanded;
}

function splitFallback(inner: string): [string, string | undefined] {
  const at = inner.indexOf(':-');
  return at < 0 ? [inner, undefined] : [inner.slice(0, at), inner.slice(at + 2)];
}

/** `text` as YAML would read it as a plain scalar: a number or boolean where it is one, else the string. */
function typedAsYaml(text: string): unknown {
  if (/[\n:#[\]{},&*!|>'"%@`]/.test(text)) return text;
  try {
    const value: unknown = parse(text);
    return typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

/** The key `origins` uses for a setting path. */
export function originKey(path: SettingPath): string {
  return path.map(String).join('\u0000');
}
