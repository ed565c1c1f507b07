/**
 * Config problems are values, not exceptions: validation walks every file and collects each problem
 * with its position, so an operator fixes them all in one pass instead of one per run.
 */
import { relative, isAbsolute } from 'node:path';
import { WgError, type ErrorCode, type ErrorContext } from '../errors.js';

/** One thing wrong in a config file, at a position the operator can jump to. */
export interface ConfigProblem {
  /** Absolute path of the file the problem is in. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The setting, as `source.modbus_tcp.devices[0].port`; empty for the file as a whole. */
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * A setting that is valid but likely not what its author meant (a 1-based Modbus register number
 * where a 0-based address belongs). Validate prints it; nothing is refused for it.
 */
export interface ConfigHint {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
}

/**
 * `file:line:col setting.path: message [code]`. The file is printed relative to `cwd` when it lies
 * below it (shorter, and still clickable in a terminal), else absolute.
 */
export function formatProblem(problem: ConfigProblem, cwd?: string): string {
  return `${where(problem, cwd)}${problem.message} [${problem.code}]`;
}

/** `file:line:col setting.path: hint: message`, the file shown as formatProblem shows it. */
export function formatHint(hint: ConfigHint, cwd?: string): string {
  return `${where(hint, cwd)}hint: ${hint.message}`;
}

function where(at: ConfigHint | ConfigProblem, cwd: string | undefined): string {
  let file = at.file;
  if (cwd !== undefined) {
    const rel = relative(cwd, at.file);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) file = rel;
  }
  const setting = at.path === '' ? '' : `${at.path}: `;
  return `${file}:${at.line}:${at.column} ${setting}`;
}

/** Builds a problem whose message is the registry's template for `code` filled from `context`. */
export function makeProblem(
  where: { file: string; line: number; column: number; path: string },
  code: ErrorCode,
  context: ErrorContext,
): ConfigProblem {
  const message = new WgError(code, { ...context, file: context.file ?? where.file }).message;
  return Object.freeze({ ...where, code, message });
}

/**
 * Orders problems by file (first the files of `fileOrder`, then others in the order first seen), then
 * line, then column.
 */
export function sortProblems<T extends ConfigProblem | ConfigHint>(problems: readonly T[], fileOrder: readonly string[] = []): T[] {
  const order = new Map<string, number>();
  for (const file of [...fileOrder, ...problems.map((p) => p.file)]) if (!order.has(file)) order.set(file, order.size);
  return [...problems].sort(
    (a, b) =>
      (order.get(a.file) as number) - (order.get(b.file) as number) || a.line - b.line || a.column - b.column,
  );
}
