/**
 * The checks that follow the schema, for one file: unit conversions, files that must be readable,
 * contradictions between two settings. Each failure is collected as a positioned problem; a check
 * never stops at the first one and never corrects a value.
 */
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ErrorCode, ErrorContext } from '../errors.js';
import type { ConfigHint, ConfigProblem } from './problem.js';
import { formatSettingPath, type SettingPath } from './setting-path.js';
import { MAX_TIMER_MS, parseDuration, parseSize } from './units.js';
import type { Anchor, YamlSource } from './yaml-source.js';
import type { SchemaVerdict } from './schema-errors.js';

export class SettingChecks {
  readonly source: YamlSource;
  readonly verdict: SchemaVerdict;
  readonly #problems: ConfigProblem[];
  readonly #hints: ConfigHint[];

  constructor(source: YamlSource, verdict: SchemaVerdict, problems: ConfigProblem[], hints: ConfigHint[] = []) {
    this.source = source;
    this.verdict = verdict;
    this.#problems = problems;
    this.#hints = hints;
  }

  /** A valid setting that is likely a mistake: said at its value's position, refused for nothing. */
  hint(path: SettingPath, message: string): void {
    const at = this.source.positionOf(path);
    this.#hints.push({ file: this.source.file, line: at.line, column: at.column, path: formatSettingPath(path), message: this.source.hideEnvValues(message) });
  }

  clean(path: SettingPath): boolean {
    return this.verdict.clean(path);
  }

  intact(path: SettingPath): boolean {
    return this.verdict.intact(path);
  }

  report(path: SettingPath, code: ErrorCode, context: ErrorContext, anchor: Anchor = 'value'): void {
    this.#problems.push(this.source.problem(path, code, context, anchor));
  }

  invalid(path: SettingPath, detail: string): void {
    this.report(path, 'WG_ERR_CONFIG_INVALID', { detail });
  }

  /** Two settings that cannot both hold: reported at `path`, naming `other` and where it is. */
  conflict(path: SettingPath, other: SettingPath, detail: string): void {
    const line = this.source.has(other) ? ` (line ${this.source.positionOf(other).line})` : '';
    this.report(path, 'WG_ERR_CONFIG_CONFLICT', { detail: `${detail}; see ${formatSettingPath(other)}${line}` });
  }

  /** Where a setting is, for messages that point from one setting to another: `devices[0].points[2] (line 14)`. */
  describe(path: SettingPath): string {
    return `${formatSettingPath(path)} (line ${this.source.positionOf(path).line})`;
  }

  /**
   * Milliseconds, or undefined after reporting why not. `positive` refuses zero; `timer` refuses what
   * a Node timer cannot wait (a longer delay fires after 1 ms). A value the schema refused is not
   * looked at (undefined, nothing more reported).
   */
  duration(path: SettingPath, value: string | number, positive = false, timer = false): number | undefined {
    if (!this.clean(path)) return undefined;
    const converted = parseDuration(value);
    if (!converted.ok) return void this.invalid(path, `must ${converted.reason}`);
    if (positive && converted.value === 0) return void this.invalid(path, 'must be longer than 0ms');
    if (timer && converted.value > MAX_TIMER_MS) {
      return void this.invalid(path, `must be at most ${MAX_TIMER_MS}ms (about 24.8 days, the longest timer Node.js keeps; got ${String(value)})`);
    }
    return converted.value;
  }

  /** Bytes, or undefined after reporting why not (or when the schema refused the value). */
  size(path: SettingPath, value: string | number): number | undefined {
    if (!this.clean(path)) return undefined;
    const converted = parseSize(value);
    if (!converted.ok) return void this.invalid(path, `must ${converted.reason}`);
    return converted.value;
  }

  /** `{ min, max }` back-off at `path`: both positive timers, min not above max. */
  backoff(path: SettingPath, value: { min: string | number; max: string | number }): void {
    if (!this.intact(path)) return;
    const min = this.duration([...path, 'min'], value.min, true, true);
    const max = this.duration([...path, 'max'], value.max, true, true);
    if (min !== undefined && max !== undefined && min > max) {
      this.conflict([...path, 'min'], [...path, 'max'], `min (${String(value.min)}) is longer than max (${String(value.max)})`);
    }
  }

  /** The absolute form of a path written in this file: relative paths are taken from the file's directory. */
  absolute(written: string): string {
    return resolve(dirname(this.source.file), written);
  }

  /** Reports the setting unless the file it names can be read. */
  async readableFile(path: SettingPath, written: string, what: string): Promise<void> {
    if (!this.clean(path)) return;
    const target = this.absolute(written);
    try {
      await access(target, constants.R_OK);
      if (!(await stat(target)).isFile()) this.report(path, 'WG_ERR_CONFIG_FILE_UNREADABLE', { target: `${what} ${target}`, detail: 'not a file' });
    } catch (err) {
      this.report(path, 'WG_ERR_CONFIG_FILE_UNREADABLE', { target: `${what} ${target}`, detail: reason(err) });
    }
  }

  /** Reports the setting unless the directory it names exists. */
  async directory(path: SettingPath, written: string, what: string): Promise<void> {
    if (!this.clean(path)) return;
    const target = this.absolute(written);
    const isDir = await stat(target).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) this.report(path, 'WG_ERR_CONFIG_FILE_UNREADABLE', { target: `${what} ${target}`, detail: 'no such directory' });
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}
