/**
 * The drop-in directory (`plugins.drop_in`, docs/plugins.md "The drop-in directory"): a field
 * engineer copies a package into it on site and the running daemon installs it through exactly the
 * path `wasmgate plugin install` takes (signature, no downgrade, canary, rollback), then moves the file
 * to `installed/` or `refused/` beside a text file that says what happened, so the outcome can be read
 * on the box itself.
 *
 * When a file is finished: only names ending `.wgp` are taken (a dotfile, `*.part`, `*.tmp` or any
 * other name is left alone, so `cp x.wgp .x.wgp.part && mv .x.wgp.part x.wgp` or rsync's temp files
 * are never read half-way), and only once its size, mtime and inode have stayed the same for
 * SETTLE_MS. A package is a tar archive that says where it ends (two zero blocks), so a file that is
 * still being written, however slowly, is told from a finished one by its last bytes: one that starts
 * like a package but has no end yet is waited for (dropin.incomplete) until it has stayed so for
 * INCOMPLETE_MS, and only then refused. Whatever does not start like one is refused at once.
 *
 * Treated as hostile: the directory is read with lstat and files opened with O_NOFOLLOW, so a symbolic
 * link (to anywhere) is refused, never followed; only regular files are read, at most MAX_FILE_BYTES;
 * at most MAX_PER_LOOK names are taken per look, the rest counted (dropin.flood) and taken later; the
 * directory missing or not writable (the outcome could not be recorded) is said (dropin.unavailable)
 * and looked at again every RETRY_MS, the gateway running on meanwhile. This module reads no package
 * itself: `install` (plugin-control.ts, loaded at the first file) does, so a daemon with an empty
 * drop-in directory never loads the package modules.
 */
import { constants, type Dirent } from 'node:fs';
import { access, lstat, mkdir, open, opendir, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../logger.js';

/** How long a file must stay unchanged before it is read. */
export const SETTLE_MS = 1_000;
/** How long a file that looks cut short (a package's start, no end) is waited for before it is refused. */
export const INCOMPLETE_MS = 30_000;
/** How often the directory is looked at. */
export const LOOK_MS = 500;
/** How often a missing or unwritable directory is looked at again. */
export const RETRY_MS = 5_000;
/** Names taken per look; the rest wait for a later look. */
export const MAX_PER_LOOK = 32;
/** Entries read per look (a directory flooded with a million files is not listed whole every second). */
const MAX_ENTRIES_READ = 4096;
/** Above any package (plugin-package.ts MAX_PACKAGE_BYTES: a 16 MiB module and a 1 MiB manifest). */
export const MAX_FILE_BYTES = 18 * 1024 * 1024;
export const INSTALLED_DIR = 'installed';
export const REFUSED_DIR = 'refused';
const BLOCK = 512;
/** How often a flood is said again while it lasts. */
const FLOOD_LOG_MS = 60_000;

/** What the install said (package-install.ts InstallOutcome, the part the drop-in reports). */
export interface DropInInstalled {
  readonly plugin: string;
  readonly version: string;
  readonly previous: string | null;
  readonly status: 'installed' | 'already-active';
  readonly pipelines: readonly string[];
}

export interface DropInOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Installs the package `bytes` read from `file`; throws the install's coded error to refuse it. */
  install(file: string, bytes: Uint8Array): Promise<DropInInstalled>;
  readonly clock?: { monotonicMs(): number };
}

export interface DropInCounters {
  installed: number;
  refused: number;
  /** Names over MAX_PER_LOOK, counted at each look they had to wait. */
  deferred: number;
  moveFailed: number;
}

/** What `wasmgate status` shows of the drop-in directory. */
export interface DropInStatus extends DropInCounters {
  readonly dir: string;
  /** Watched now; false while it is missing or not writable (`problem` says why). */
  readonly watching: boolean;
  readonly problem?: string;
}

interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  /** When it was first seen with these size, mtime and inode. */
  readonly since: number;
  incompleteSaid?: boolean;
}

type Look = { ok: true } | { ok: false; reason: string };

export class DropInWatcher {
  readonly #options: DropInOptions;
  readonly #dir: string;
  readonly #now: () => number;
  readonly #seen = new Map<string, Seen>();
  /** Files whose outcome could not be moved out: not taken again until they change (name -> ino:size:mtime). */
  readonly #stuck = new Map<string, string>();
  readonly counters: DropInCounters = { installed: 0, refused: 0, deferred: 0, moveFailed: 0 };
  #timer?: NodeJS.Timeout;
  #stopping = false;
  #ready = false;
  #lastProblem?: string;
  #lastFloodLog = -Infinity;
  #current: Promise<void> = Promise.resolve();
  #moves = 0;

  private constructor(options: DropInOptions) {
    this.#options = options;
    this.#dir = options.dir;
    this.#now = () => (options.clock ?? { monotonicMs: () => performance.now() }).monotonicMs();
  }

  static start(options: DropInOptions): DropInWatcher {
    const watcher = new DropInWatcher(options);
    watcher.#schedule(0);
    return watcher;
  }

  status(): DropInStatus {
    return { dir: this.#dir, watching: this.#ready, ...(this.#lastProblem && !this.#ready ? { problem: this.#lastProblem } : {}), ...this.counters };
  }

  /** Stops looking; a file being installed finishes (and is moved) first. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#current;
  }

  #schedule(ms: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#current = this.#look().catch((err: Error) => {
        this.#unavailable(`looking at it failed: ${err.message}`);
      }).then(() => this.#schedule(this.#ready ? LOOK_MS : RETRY_MS));
    }, ms);
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    const usable = await this.#usable();
    if (!usable.ok) {
      this.#unavailable(usable.reason);
      return;
    }
    if (!this.#ready) {
      this.#ready = true;
      this.#lastProblem = undefined;
      this.#options.logger.info({ event: 'dropin.watching', dir: this.#dir }, `watching the drop-in directory ${this.#dir} for plugin packages`);
    }
    const { taken, waiting } = await this.#candidates();
    if (waiting > 0) {
      this.counters.deferred += waiting;
      if (this.#now() - this.#lastFloodLog >= FLOOD_LOG_MS) {
        this.#lastFloodLog = this.#now();
        this.#options.logger.warn({ event: 'dropin.flood', dir: this.#dir, waiting, limit: MAX_PER_LOOK }, `${waiting} more files wait in the drop-in directory than one look takes (${MAX_PER_LOOK}); they are taken later`);
      }
    }
    const names = new Set(taken.map((e) => e.name));
    for (const name of this.#seen.keys()) if (!names.has(name)) this.#seen.delete(name);
    for (const name of this.#stuck.keys()) if (!names.has(name)) this.#stuck.delete(name);
    for (const entry of taken) {
      if (this.#stopping) return;
      await this.#consider(entry.name);
    }
  }

  /** The directory exists, is a directory, can be written, and has installed/ and refused/ (made if missing). */
  async #usable(): Promise<Look> {
    try {
      const s = await lstat(this.#dir);
      if (!s.isDirectory()) return { ok: false, reason: s.isSymbolicLink() ? 'it is a symbolic link; name the directory itself' : 'it is not a directory' };
      await access(this.#dir, constants.R_OK | constants.W_OK | constants.X_OK);
      for (const sub of [INSTALLED_DIR, REFUSED_DIR]) {
        await mkdir(join(this.#dir, sub)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        const t = await lstat(join(this.#dir, sub));
        if (!t.isDirectory()) return { ok: false, reason: `${sub} in it is not a directory` };
        await access(join(this.#dir, sub), constants.W_OK);
      }
      return { ok: true };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { ok: false, reason: e.code === 'ENOENT' ? 'it does not exist' : `${e.code ?? ''} ${e.message}`.trim() };
    }
  }

  #unavailable(reason: string): void {
    this.#ready = false;
    if (reason === this.#lastProblem) return;
    this.#lastProblem = reason;
    this.#options.logger.error({ event: 'dropin.unavailable', dir: this.#dir, reason }, `the drop-in directory ${this.#dir} cannot be used (${reason}): nothing is taken from it; looked at again every ${RETRY_MS / 1000} s`);
  }

  /** The entries to look at now (at most MAX_PER_LOOK), and how many more wait. */
  async #candidates(): Promise<{ taken: Dirent[]; waiting: number }> {
    const taken: Dirent[] = [];
    let waiting = 0;
    let read = 0;
    const dir = await opendir(this.#dir);
    try {
      for await (const entry of dir) {
        if (++read > MAX_ENTRIES_READ) break;
        if (!isCandidateName(entry.name) || entry.isDirectory()) continue;
        // Files already seen keep their turn, so a flood cannot starve a file that is settling.
        if (taken.length < MAX_PER_LOOK) taken.push(entry);
        else waiting++;
      }
    } finally {
      await dir.close().catch(() => undefined);
    }
    return { taken, waiting };
  }

  async #consider(name: string): Promise<void> {
    const path = join(this.#dir, name);
    let s;
    try {
      s = await lstat(path);
    } catch {
      this.#seen.delete(name);
      return;
    }
    const key = fileKey(s);
    if (this.#stuck.get(name) === key) return;
    this.#stuck.delete(name);
    if (s.isSymbolicLink()) return this.#refuse(name, 'WG_ERR_DROPIN_REFUSED', 'a symbolic link; a link is never followed: copy the package itself into the directory');
    if (!s.isFile()) return this.#refuse(name, 'WG_ERR_DROPIN_REFUSED', 'not a regular file');
    if (s.size > MAX_FILE_BYTES) return this.#refuse(name, 'WG_ERR_DROPIN_REFUSED', `${s.size} bytes, more than any package (${MAX_FILE_BYTES})`);
    const now = this.#now();
    const before = this.#seen.get(name);
    if (!before || before.size !== s.size || before.mtimeMs !== s.mtimeMs || before.ino !== s.ino) {
      this.#seen.set(name, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, since: now });
      return;
    }
    if (now - before.since < SETTLE_MS) return;
    const bytes = await readRegular(path, s.ino, s.size);
    if (typeof bytes === 'string') return this.#refuse(name, 'WG_ERR_DROPIN_REFUSED', bytes);
    const shape = packageShape(bytes);
    if (shape === 'not-a-package') return this.#refuse(name, 'WG_ERR_DROPIN_REFUSED', 'it does not start like a plugin package (no ustar header): not a .wgp made by wasmgate plugin pack');
    if (shape === 'no-end' && now - before.since < INCOMPLETE_MS) {
      if (!before.incompleteSaid) {
        before.incompleteSaid = true;
        this.#options.logger.info({ event: 'dropin.incomplete', plugin: name, file: path, bytes: s.size }, `${name} looks cut short (no end of archive yet): waiting for the rest of it, up to ${INCOMPLETE_MS / 1000} s`);
      }
      return;
    }
    this.#seen.delete(name);
    let outcome: DropInInstalled;
    try {
      outcome = await this.#options.install(path, bytes);
    } catch (err) {
      // A stop under way refuses the install: the file stays for the next start, not refused for it.
      if (this.#stopping) return;
      const e = err as { code?: string; message?: string; context?: { problems?: unknown } };
      const problems = Array.isArray(e.context?.problems) ? e.context.problems.map(String) : [];
      return this.#refuse(name, e.code ?? 'WG_ERR_DROPIN_REFUSED', e.message ?? String(err), problems, key);
    }
    const said = outcome.status === 'already-active'
      ? `${outcome.plugin} ${outcome.version} is the active version already: nothing changed`
      : `installed ${outcome.plugin} ${outcome.version} (before: ${outcome.previous ?? 'none in the registry'}); pipelines running it: ${outcome.pipelines.length > 0 ? outcome.pipelines.join(', ') : '-'}`;
    const moved = await this.#moveOut(name, INSTALLED_DIR, 'txt', `${new Date().toISOString()} ${said}\n`, key);
    if (moved === undefined) return;
    this.counters.installed++;
    // Written over while it installed: what is there now is not what was installed, and takes its own turn.
    const where = moved === null ? 'the file was written over meanwhile, so it stays for its own turn' : `moved to ${moved}`;
    this.#options.logger.info({ event: 'dropin.installed', plugin: outcome.plugin, version: outcome.version, status: outcome.status, file: path, moved }, `${name}: ${said}; ${where}`);
  }

  async #refuse(name: string, code: string, message: string, problems: readonly string[] = [], read?: string): Promise<void> {
    this.#seen.delete(name);
    const path = join(this.#dir, name);
    const text = [`${new Date().toISOString()} refused: ${code}`, message, ...problems, ''].join('\n');
    const moved = await this.#moveOut(name, REFUSED_DIR, 'reason', text, read);
    if (moved === undefined || moved === null) return;
    this.counters.refused++;
    this.#options.logger.warn({ event: 'dropin.refused', plugin: name, file: path, code, reason: message, moved }, `${name} refused (${code}): ${message}; moved to ${moved}`);
  }

  /**
   * Moves `name` into `sub`/ under a name of its own (the time first, so that a listing is in order and
   * two copies of one name never overwrite each other), with the outcome beside it as `<that>.<ext>`.
   * `read`: the inode, size and mtime of the file that was read; a file replaced meanwhile under the same
   * name, or written over in place (`cp` onto an existing name keeps its inode), is left for its own turn.
   * Returns the new path; null when the file was replaced (nothing moved); undefined when it could not be moved.
   */
  async #moveOut(name: string, sub: string, ext: string, text: string, read?: string): Promise<string | null | undefined> {
    const from = join(this.#dir, name);
    const stamp = new Date().toISOString().replace(/[:.]/g, '').replace('T', '-');
    const to = join(this.#dir, sub, `${stamp}-${++this.#moves}-${basename(name)}`);
    try {
      if (read !== undefined && fileKey(await lstat(from)) !== read) return null;
      await writeFile(`${to}.${ext}`, text, { flag: 'wx' });
      await rename(from, to);
      return to;
    } catch (err) {
      this.counters.moveFailed++;
      const s = await lstat(from).catch(() => undefined);
      if (s) this.#stuck.set(name, fileKey(s));
      this.#options.logger.error({ event: 'dropin.move_failed', plugin: name, file: from, to, err }, `${name} could not be moved to ${sub}/ (${(err as Error).message}); it is left in place and not taken again until it changes`);
      return undefined;
    }
  }
}

/** What tells one file from another under a name: its inode, size and mtime. */
function fileKey(s: { ino: number; size: number; mtimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/** A name the drop-in takes: `*.wgp`, not a dotfile (editors', rsync's and `cp`-then-`mv` temp names). */
export function isCandidateName(name: string): boolean {
  return !name.startsWith('.') && name.toLowerCase().endsWith('.wgp');
}

/**
 * The file's bytes, opened without following a link and without blocking on a FIFO, and only if it is
 * still the regular file of inode `ino` (not swapped between the look and the open); else why not.
 */
async function readRegular(path: string, ino: number, size: number): Promise<Uint8Array | string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ELOOP' ? 'a symbolic link; a link is never followed: copy the package itself into the directory' : `cannot be read: ${e.message}`;
  }
  try {
    const s = await handle.stat();
    if (!s.isFile() || s.ino !== ino) return 'it was replaced while it was being read';
    const bytes = Buffer.alloc(Math.min(size, MAX_FILE_BYTES));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    return bytes.subarray(0, bytesRead);
  } catch (err) {
    return `cannot be read: ${(err as Error).message}`;
  } finally {
    await handle.close();
  }
}

/**
 * What a file's bytes look like: a ustar archive that has its end (two zero blocks, a whole number of
 * blocks), one that starts like an archive but has no end yet (still being written, or cut short), or
 * not a package at all. The install makes the full checks; this only tells a half-written copy.
 */
export function packageShape(bytes: Uint8Array): 'whole' | 'no-end' | 'not-a-package' {
  if (bytes.length < BLOCK) return bytes.length === 0 || isPrefixOfMagicFile(bytes) ? 'no-end' : 'not-a-package';
  if (Buffer.from(bytes.subarray(257, 262)).toString('latin1') !== 'ustar') return 'not-a-package';
  const ended = bytes.length % BLOCK === 0 && bytes.length >= 3 * BLOCK && bytes.subarray(bytes.length - 2 * BLOCK).every((b) => b === 0);
  return ended ? 'whole' : 'no-end';
}

/** Shorter than a header: it may still become one (its magic is at offset 257). */
function isPrefixOfMagicFile(bytes: Uint8Array): boolean {
  if (bytes.length <= 257) return true;
  return 'ustar'.startsWith(Buffer.from(bytes.subarray(257, Math.min(262, bytes.length))).toString('latin1'));
}
