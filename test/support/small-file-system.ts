/**
 * A file system of its own for a test: a tmpfs of a few hundred KiB mounted on a fresh directory, to
 * fill up (a real ENOSPC) or to remount read-only (a real EROFS). Mounting needs root (or
 * CAP_SYS_ADMIN), which the developers' machines and CI have here; where the mount is refused,
 * `mountSmallFileSystem` says why and the test takes its stated stand-in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFileSystem {
  readonly path: string;
  remount(mode: 'ro' | 'rw'): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes`, or returns the reason it cannot. */
export function mountSmallFileSystem(bytes: number): SmallFileSystem | string {
  const path = mkdtempSync(join(tmpdir(), 'wasmgate-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    return `cannot mount a tmpfs here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  return {
    path,
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, path], { stdio: 'pipe' }),
    unmount: () => {
      execFileSync('umount', [path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
