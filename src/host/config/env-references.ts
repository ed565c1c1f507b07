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

/**
 * What the environment filled in: the scalar node → the variable(s) its value came from. Keyed by
 * node, not by setting path, so that an alias (`id: *pw`) of a value from the environment is known
 * to come from it too.
 */
export type EnvOrigins = ReadonlyMap<Scalar, string>;

export interface EnvProblem {
  offset: number;
  path: SettingPath;
  detail: string;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every reference in `doc`'s values, in place; returns where they came from, the text each
 * variable gave (`values`: name → value, fallbacks left out: they are written in the file), and what
 * could not be replaced.
 */
export function expandEnvReferences(doc: Document.Parsed, env: NodeJS.ProcessEnv): { origins: Map<Scalar, string>; values: Map<string, string>; problems: EnvProblem[] } {
  const origins = new Map<Scalar, string>();
  const values = new Map<string, string>();
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
      expandScalar(node, path, env, origins, values, problems);
    }
  }
  return { origins, values, problems: problems.sort((a, b) => a.offset - b.offset) };
}

function expandScalar(node: Scalar, path: SettingPath, env: NodeJS.ProcessEnv, origins: Map<Scalar, string>, values: Map<string, string>, problems: EnvProblem[]): void {
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
    if (value !== undefined && value !== '') {
      values.set(name, value);
      return value;
    }
    if (fallback !== undefined) return fallback;
    problems.push({ offset, path, detail: value === undefined ? `environment variable ${name} is not set` : `environment variable ${name} is empty` });
    failed = true;
    return whole;
  });
  if (failed) return;
  if (names.length > 0) origins.set(node, names.join(', '));
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

/**
 * Shortest value taken out of messages. A variable holding `1` or `on` is no secret, and taking every
 * `1` out of a message would garble it; a password is longer.
 */
const SHORTEST_HIDDEN = 4;

/**
 * `message` with the text of every variable in `values` replaced by its reference (`${NAME}`): a
 * check that quotes a setting (a URL, a path, a topic) may quote what the environment put in it.
 * JSON-escaped forms are replaced too (messages quote values with JSON.stringify).
 */
export function hideEnvValues(message: string, values: ReadonlyMap<string, string>): string {
  const forms: Array<[string, string]> = [];
  for (const [name, value] of values) {
    if (value.length < SHORTEST_HIDDEN) continue;
    forms.push([value, name]);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) forms.push([escaped, name]);
  }
  forms.sort((a, b) => b[0].length - a[0].length); // a value inside a longer one: the longer first
  let hidden = message;
  for (const [text, name] of forms) hidden = hidden.split(text).join(`\${${name}}`);
  return hidden;
}
