/**
 * The registry's lock (docs/plugins.md, "The registry"): one process at a time changes the registry,
 * whether it is the daemon or `wasmgate plugin install --offline` beside it. Without it two installs
 * both read the index, and the one that commits last writes back an index without the other's version.
 *
 *   <data_dir>/plugins/.lock      {"pid":…,"host":…,"since":…,"what":…,"run":…}
 *
 * Taken by creating the file whole in one step: the holder's record is written to a file of its own
 * and hard-linked to the lock's name, which fails if the name exists, so a reader never sees a lock
 * without its holder. Released by removing it. A process killed while it holds the lock leaves it
 * behind: a lock whose holder (same host) no longer runs is stale and is taken over, by renaming it
 * aside and checking that what was renamed is the stale one (not a lock another process took in the
 * meantime, which is put back). A lock held by a running process is waited for, up to `waitMs`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { WgError } from '../errors.js';

export const LOCK_FILE = '.lock';
/** How long an install waits for another to finish: an install through the daemon may take a reload. */
export const LOCK_WAIT_MS = 150_000;
const POLL_MS = 50;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Wall time it was taken, ISO 8601. */
  readonly since: string;
  /** What holds it: `plugin install`, `plugin rollback`, … */
  readonly what: string;
  /** This process's run (THIS_RUN): tells a lock of this process from one of an earlier run under the same pid. */
  readonly run?: string;
}

/**
 * Drawn once per process. A daemon killed during an install leaves its lock, and the one started
 * after it can get the same pid (pid 1 in a container; a boot that starts the same services in the
 * same order): a lock naming this pid but not this run is stale, where the pid alone would say that
 * its holder still runs and the registry would stay locked until someone removed the file.
 */
const THIS_RUN = randomUUID();

export interface LockOptions {
  readonly waitMs?: number;
  /** Called once when the lock is held by another running process and this one starts to wait. */
  readonly onWait?: (holder: LockHolder, file: string) => void;
  /** Called when a stale lock (its holder gone) was taken over. */
  readonly onStale?: (holder: LockHolder | undefined, file: string) => void;
}

/** Runs `work` holding the lock of registry directory `dir`. */
export async function withRegistryLock<T>(dir: string, what: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const file = join(dir, LOCK_FILE);
  await acquire(dir, file, what, options);
  try {
    return await work();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

async function acquire(dir: string, file: string, what: string, options: LockOptions): Promise<void> {
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), what, run: THIS_RUN };
  await mkdir(dir, { recursive: true });
  const mine = join(dir, `${LOCK_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  await writeFile(mine, `${JSON.stringify(holder)}\n`, { mode: 0o644 });
  const waitMs = options.waitMs ?? LOCK_WAIT_MS;
  const started = Date.now();
  let told = false;
  try {
    for (;;) {
      try {
        await link(mine, file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(file, `cannot create it: ${(err as Error).message}`, err);
      }
      const seen = await readHolder(file);
      if (seen === 'gone') continue;
      if (isStale(seen.holder, seen.ageMs)) {
        if (await takeOverStale(file, seen.ino)) options.onStale?.(seen.holder, file);
        continue;
      }
      if (!told && seen.holder) {
        told = true;
        options.onWait?.(seen.holder, file);
      }
      if (Date.now() - started >= waitMs) {
        const by = seen.holder ? `process ${seen.holder.pid} on ${seen.holder.host} (${seen.holder.what}, since ${seen.holder.since})` : 'a process that left no record';
        throw lockError(file, `held by ${by}; waited ${Math.round(waitMs / 1000)} s. If that process is gone and its pid now belongs to another, remove ${file}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function readHolder(file: string): Promise<'gone' | { holder: LockHolder | undefined; ino: number; ageMs: number }> {
  let ino: number;
  let ageMs: number;
  let text: string;
  try {
    const s = await stat(file);
    ino = s.ino;
    ageMs = Date.now() - s.mtimeMs;
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(h.pid) && typeof h.host === 'string') return { holder: h as LockHolder, ino, ageMs };
  } catch {
    // Not a record: judged by its age below.
  }
  return { holder: undefined, ino, ageMs };
}

/**
 * A lock is stale when its holder, on this host, no longer runs (one naming this pid, when it is not
 * this run's). One without a readable record (never written by this code, which links a whole file) is
 * stale once a minute old. One taken on another host (a data directory on shared storage) is never
 * judged here.
 */
function isStale(holder: LockHolder | undefined, ageMs: number): boolean {
  if (!holder) return ageMs > 60_000;
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return holder.run !== THIS_RUN;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes the stale lock `ino`; true when it was that one. Another process's fresh lock is put back. */
async function takeOverStale(file: string, ino: number): Promise<boolean> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = await stat(aside);
  if (moved.ino !== ino) {
    // Someone took the lock between our look and the rename: give it back (unless yet another took the name).
    await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return false;
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

function lockError(file: string, detail: string, cause?: unknown): WgError {
  return new WgError('WG_ERR_REGISTRY_LOCKED', { file, detail }, cause === undefined ? undefined : { cause });
}
