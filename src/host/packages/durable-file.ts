/**
 * Writing a file so that a power cut at any moment leaves either the old file or the new one, whole:
 * the bytes go to a fresh file beside it, which is fsynced, renamed over the old name (atomic on
 * POSIX), and then the directory is fsynced so that the rename itself is on disk.
 *
 * `step` is called after each stage with its name (`written`, `renamed`); the registry passes it on
 * from its own fault hook, which is how a test kills the process between two stages.
 */
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type StepHook = (step: string) => void | Promise<void>;

export async function writeFileDurably(path: string, bytes: Uint8Array | string, step?: StepHook): Promise<void> {
  const fresh = join(dirname(path), `.${basename(path)}.${process.pid}.new`);
  await writeAndSync(fresh, bytes);
  await step?.('written');
  await rename(fresh, path);
  await step?.('renamed');
  await syncDirectory(dirname(path));
}

/** Writes `bytes` to a new file at `path` (refused if one exists) and fsyncs it. */
export async function writeAndSync(path: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory: makes the names created, renamed or removed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
