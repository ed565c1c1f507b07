/**
 * One YAML file parsed with its positions kept: the plain data to validate, and a way back from any
 * setting path to the line and column where it is written. Syntax errors become positioned problems.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Pair } from 'yaml';
import { formatSettingPath, type SettingPath } from './setting-path.js';
import { makeProblem, type ConfigProblem } from './problem.js';
import type { ErrorCode, ErrorContext } from '../errors.js';

export interface Position {
  line: number;
  column: number;
}

/** Whether a position points at a setting's key (unknown keys) or at its value (everything else). */
export type Anchor = 'key' | 'value';

export class YamlSource {
  /** Absolute path of the file. */
  readonly file: string;
  /** The document as plain JavaScript data. Validation may fill in defaults; positions still come from the text. */
  readonly data: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  private constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.data = doc.toJS({ maxAliasCount: 1000 });
  }

  /** Reads and parses `file` (absolute). Unreadable files and YAML syntax errors come back as problems. */
  static async read(file: string): Promise<{ ok: true; source: YamlSource } | { ok: false; problems: ConfigProblem[] }> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const detail = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      return { ok: false, problems: [makeProblem({ file, line: 1, column: 1, path: '' }, 'WG_ERR_CONFIG_READ', { detail })] };
    }
    return YamlSource.parse(file, text);
  }

  /** Parses `text` as the content of `file`. */
  static parse(file: string, text: string): { ok: true; source: YamlSource } | { ok: false; problems: ConfigProblem[] } {
    const lines = new LineCounter();
    // prettyErrors off: the message stays one line and we print the position ourselves.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const problems = doc.errors.map((err) => {
        const at = lines.linePos(err.pos[0]);
        return makeProblem({ file, line: at.line, column: at.col, path: '' }, 'WG_ERR_CONFIG_SYNTAX', { detail: err.message });
      });
      return { ok: false, problems };
    }
    return { ok: true, source: new YamlSource(file, doc, lines) };
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

  /** A problem at the setting `path` of this file. */
  problem(path: SettingPath, code: ErrorCode, context: ErrorContext, anchor: Anchor = 'value'): ConfigProblem {
    const at = this.positionOf(path, anchor);
    return makeProblem({ file: this.file, line: at.line, column: at.column, path: formatSettingPath(path) }, code, context);
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
