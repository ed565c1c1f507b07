/**
 * One YAML file parsed with its positions kept: the plain data to validate, and a way back from any
 * setting path to the line and column where it is written. Syntax errors become positioned problems.
 *
 * A config file is hostile input until checked: its size is bounded before it is read (a 50 MB file
 * would exhaust the daemon's 96 MB heap), and what its aliases expand to is counted on the parsed tree
 * before it is turned into data (a "billion laughs" alias bomb is a few hundred bytes of text).
 */
import { open } from 'node:fs/promises';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Pair } from 'yaml';
import { checkAliases } from './alias-expansion.js';
import { expandEnvReferences, hideEnvValues, type EnvOrigins } from './env-references.js';
import { formatSettingPath, type SettingPath } from './setting-path.js';
import { makeProblem, type ConfigProblem } from './problem.js';
import type { ErrorCode, ErrorContext } from '../errors.js';

export interface Position {
  line: number;
  column: number;
}

/** Whether a position points at a setting's key (unknown keys) or at its value (everything else). */
export type Anchor = 'key' | 'value';

/** Largest config file read. Real gateway and pipeline files are a few KiB; a thousand points fit in 200 KiB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export class YamlSource {
  /** Absolute path of the file. */
  readonly file: string;
  /** The document as plain JavaScript data. Validation may fill in defaults; positions still come from the text. */
  readonly data: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;
  readonly #envOrigins: EnvOrigins;
  readonly #envValues: ReadonlyMap<string, string>;
  /** The file's text, for positions inside a value (positionWithin). */
  readonly #sourceText: string;

  private constructor(file: string, text: string, doc: Document.Parsed, lines: LineCounter, envOrigins: EnvOrigins, envValues: ReadonlyMap<string, string>) {
    this.file = file;
    this.#sourceText = text;
    this.#doc = doc;
    this.#lines = lines;
    this.#envOrigins = envOrigins;
    this.#envValues = envValues;
    // The expansion was bounded by parse(); yaml's own alias limit would throw a bare ReferenceError.
    this.data = doc.toJS({ maxAliasCount: -1 });
  }

  /** Reads and parses `file` (absolute). Unreadable files and YAML syntax errors come back as problems. */
  static async read(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: true; source: YamlSource } | { ok: false; problems: ConfigProblem[] }> {
    const whole = { file, line: 1, column: 1, path: '' };
    let text: string;
    try {
      const read = await readBounded(file, MAX_CONFIG_FILE_BYTES);
      if (read === undefined) {
        const detail = `the file is larger than ${MAX_CONFIG_FILE_BYTES / 1024} KiB, the most a config file may hold`;
        return { ok: false, problems: [makeProblem(whole, 'WG_ERR_CONFIG_TOO_LARGE', { detail })] };
      }
      text = read;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
      return { ok: false, problems: [makeProblem(whole, 'WG_ERR_CONFIG_READ', { detail })] };
    }
    return YamlSource.parse(file, text, env);
  }

  /** Parses `text` as the content of `file`; `${NAME}` in values comes from `env` (env-references.ts). */
  static parse(file: string, text: string, env: NodeJS.ProcessEnv = process.env): { ok: true; source: YamlSource } | { ok: false; problems: ConfigProblem[] } {
    const lines = new LineCounter();
    // prettyErrors off: the message stays one line and we print the position ourselves. yaml's own
    // uniqueKeys compares every key with every other (minutes for a 1 MiB map); duplicateKeys is linear.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
    const syntax = (offset: number, detail: string) => {
      const at = lines.linePos(offset);
      return makeProblem({ file, line: at.line, column: at.col, path: '' }, 'WG_ERR_CONFIG_SYNTAX', { detail });
    };
    if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((err) => syntax(err.pos[0], err.message)) };
    const duplicates = duplicateKeys(doc.contents);
    if (duplicates.length > 0) {
      const problems = duplicates.map(({ key, offset, first }) => syntax(offset, `key ${JSON.stringify(key)} is written twice in one map (first on line ${lines.linePos(first).line})`));
      return { ok: false, problems };
    }
    const aliases = checkAliases(doc);
    if (!aliases.ok) {
      const at = lines.linePos(aliases.offset);
      return { ok: false, problems: [makeProblem({ file, line: at.line, column: at.col, path: '' }, 'WG_ERR_CONFIG_TOO_LARGE', { detail: aliases.detail })] };
    }
    const expanded = expandEnvReferences(doc, env);
    if (expanded.problems.length > 0) {
      const problems = expanded.problems.map(({ offset, path, detail }) => {
        const at = lines.linePos(offset);
        return makeProblem({ file, line: at.line, column: at.col, path: formatSettingPath(path) }, 'WG_ERR_CONFIG_ENV', { detail });
      });
      return { ok: false, problems };
    }
    return { ok: true, source: new YamlSource(file, text, doc, lines, expanded.origins, expanded.values) };
  }

  /** The environment variable(s) the setting's value came from (`${NAME}`), if it did. */
  envOrigin(path: SettingPath): string | undefined {
    const { node, complete } = this.#walk(path); // through aliases: `id: *pw` came from where &pw did
    return complete && isScalar(node) ? this.#envOrigins.get(node) : undefined;
  }

  /** `message` with what the environment put into this file's values replaced by the references (`${NAME}`). */
  hideEnvValues(message: string): string {
    return hideEnvValues(message, this.#envValues);
  }

  /** True when the setting is written in the file (as opposed to absent or filled in by a default). */
  has(path: SettingPath): boolean {
    return this.#walk(path).complete;
  }

  /**
   * Line and column of the setting at `path`. When the path goes deeper than the file does (a missing
   * setting), this is the position of the deepest part that exists.
   */
  positionOf(path: SettingPath, anchor: Anchor = 'value'): Position {
    const { node, pair, complete } = this.#walk(path);
    let offset: number | undefined;
    if (anchor === 'key' && complete && pair && isScalar(pair.key)) offset = pair.key.range?.[0];
    // An empty value (`key:` and nothing) has no text of its own; point at its key instead.
    const empty = isScalar(node) && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
    if (offset === undefined && (empty || node === null) && pair && isScalar(pair.key)) offset = pair.key.range?.[0];
    if (offset === undefined) offset = nodeRange(node)?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const at = this.#lines.linePos(offset);
    return { line: at.line, column: at.col };
  }

  /**
   * Line and column of character `index` of the string value at `path`: a rule expression's error
   * points into the expression. The value's characters are found in order in its text in the file
   * (quotes, escapes, indentation and folded line breaks skipped); a value the text does not yield
   * that way (an escape that makes a character) is pointed at as a whole.
   */
  positionWithin(path: SettingPath, index: number): Position {
    const { node, complete } = this.#walk(path);
    if (!complete || !isScalar(node) || typeof node.value !== 'string' || !node.range) return this.positionOf(path);
    const value = node.value;
    const raw = this.#text(node.range[0], node.range[1]);
    let j = 0;
    for (let i = 0; i <= Math.min(index, value.length - 1); i++) {
      const want = value[i]!;
      // A folded line break is a space in the value and a newline plus indentation in the text.
      while (j < raw.length && raw[j] !== want && !(want === ' ' && raw[j] === '\n')) j++;
      if (j >= raw.length) return this.positionOf(path);
      if (i === index) break;
      j++;
    }
    if (index >= value.length) j = Math.min(raw.length, j + 1);
    const at = this.#lines.linePos(node.range[0] + j);
    return { line: at.line, column: at.col };
  }

  #text(start: number, end: number): string {
    return this.#sourceText.slice(start, end);
  }

  /** A problem at the setting `path` of this file; what the environment gave is not quoted in it (it may be a secret). */
  problem(path: SettingPath, code: ErrorCode, context: ErrorContext, anchor: Anchor = 'value'): ConfigProblem {
    const at = this.positionOf(path, anchor);
    const problem = makeProblem({ file: this.file, line: at.line, column: at.column, path: formatSettingPath(path) }, code, context);
    // A check may quote a setting (a URL, a path) whose text came, in part, from the environment.
    return Object.freeze({ ...problem, message: this.hideEnvValues(problem.message) });
  }

  #walk(path: SettingPath): { node: unknown; pair: Pair | undefined; complete: boolean } {
    let node: unknown = this.#doc.contents;
    let pair: Pair | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.#doc);
      let next: unknown;
      let nextPair: Pair | undefined;
      if (isMap(node)) {
        nextPair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
        next = nextPair === undefined ? undefined : (nextPair.value ?? null);
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
        nextPair = undefined;
      }
      if (next === undefined) return { node, pair, complete: false };
      node = next;
      pair = nextPair;
    }
    if (isAlias(node)) node = node.resolve(this.#doc);
    return { node, pair, complete: true };
  }
}

/** Every key written a second time in its map (as text: `1` and `"1"` are the same setting), with the offsets of both. */
function duplicateKeys(root: unknown): { key: string; offset: number; first: number }[] {
  const found: { key: string; offset: number; first: number }[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          const offset = pair.key.range?.[0] ?? 0;
          const first = seen.get(key);
          if (first === undefined) seen.set(key, offset);
          else found.push({ key, offset, first });
        }
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/**
 * The file's text, or undefined when it holds more than `limit` bytes. Reads at most limit + 1 bytes,
 * so neither a huge file nor one that grows while read (a FIFO, a log) is taken into memory.
 */
async function readBounded(file: string, limit: number): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled > limit ? undefined : buffer.toString('utf8', 0, filled);
  } finally {
    await handle.close();
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function nodeRange(node: unknown): readonly number[] | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    return range ?? undefined;
  }
  return undefined;
}
