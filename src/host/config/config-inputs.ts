/**
 * What reading a configuration looked at, as observations that can be made again: each file it read
 * (by content), each path it stat-ed or checked for access (a regular file by its content too: a
 * password file is only checked at load, and its new content must count), each directory it listed,
 * each environment variable it read. The start cache (cli/config-cache.ts) keeps them with the
 * result; a later start makes every observation again, and only when every outcome is the same is the
 * result still the one the checks would give. Recording and checking call the same function
 * (`observe`), so the two cannot drift apart.
 *
 * Outcomes are digests, never contents: a secret file or a password in the environment is kept as
 * its SHA-256, not as text.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';

/** What was looked at: `read` a file's bytes, `stat`/`lstat` a path, `access` with a mode, `readdir` a listing, `env` one variable, `env*` all of them. */
export type InputOp = 'read' | 'stat' | 'lstat' | 'access' | 'readdir' | 'realpath' | 'env' | 'env*';

export interface ConfigInput {
  readonly op: InputOp;
  /** An absolute path, or the variable's name for `env` ('' for `env*`). */
  readonly target: string;
  /** `access`: the mode asked. */
  readonly mode?: number;
  /** A digest of what was seen (see observe). */
  readonly outcome: string;
}

// Captured when this module is evaluated, before the config thread's recorder wraps node:fs (its
// ESM bindings are live): observing must never be recorded itself.
const read = fs.readFileSync;
const stat = fs.statSync;
const lstat = fs.lstatSync;
const access = fs.accessSync;
const readdir = fs.readdirSync;
const realpath = fs.realpathSync;

/** Files larger than this are kept by size, times and inode instead of content (config files are ≤ 1 MiB; plugins a few). */
const MAX_HASHED_BYTES = 64 * 1024 * 1024;

export function digest(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

function failure(err: unknown): string {
  return `error:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
}

/** A regular file by its content (when it can be read; else by why not). */
function fileOutcome(path: string, s: fs.Stats): string {
  if (s.size > MAX_HASHED_BYTES) return `file:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}`;
  try {
    return `file:${digest(read(path))}`;
  } catch (err) {
    return `file:${failure(err)}`;
  }
}

function statOutcome(path: string, s: fs.Stats): string {
  if (s.isFile()) return fileOutcome(path, s);
  if (s.isDirectory()) return 'dir';
  return s.isSymbolicLink() ? `link:${realOutcome(path)}` : `other:${s.mode}`;
}

function realOutcome(path: string): string {
  try {
    return realpath(path);
  } catch (err) {
    return failure(err);
  }
}

/** Makes the observation now; the same call records it in the config thread and checks it at a later start. */
export function observe(op: InputOp, target: string, mode?: number, env: NodeJS.ProcessEnv = process.env): string {
  try {
    switch (op) {
      case 'read':
        return digest(read(target));
      case 'stat':
        return statOutcome(target, stat(target));
      case 'lstat':
        return statOutcome(target, lstat(target));
      case 'access':
        access(target, mode);
        return 'ok';
      case 'readdir': {
        const entries = readdir(target, { withFileTypes: true }).map((e) => `${e.name}/${e.isDirectory() ? 'd' : e.isFile() ? 'f' : e.isSymbolicLink() ? 'l' : 'o'}`);
        return digest(entries.sort().join('\n'));
      }
      case 'realpath':
        return realpath(target);
      case 'env': {
        const value = env[target];
        return value === undefined ? 'unset' : `set:${digest(value)}`;
      }
      case 'env*':
        return digest(JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    }
  } catch (err) {
    return failure(err);
  }
}

/** The first input whose outcome is not what was recorded, or undefined when every one still holds. */
export function firstChanged(inputs: readonly ConfigInput[], env: NodeJS.ProcessEnv = process.env): ConfigInput | undefined {
  return inputs.find((i) => observe(i.op, i.target, i.mode, env) !== i.outcome);
}
