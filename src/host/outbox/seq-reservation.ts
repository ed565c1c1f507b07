/**
 * The seqs the durable outbox has reserved, in a small file beside it (`<outbox file>.seq`), so that
 * numbers are never handed out twice even when the outbox file itself is lost: moved aside as
 * damaged, deleted, or unreadable on a read-only file system. The outbox reserves a block of
 * `SEQ_BLOCK` seqs ahead of the ones it hands out, so this file is written once per block (one more
 * sync per 65,536 messages), and an outbox that starts afresh continues after the reservation: a gap
 * in the numbers, which tells a consumer that what came before may be missing, instead of a number
 * that a consumer's de-duplication would take for a message it already has.
 *
 * Written as a new file, synced, then renamed over the old one (and the directory synced), so a crash
 * or a power cut leaves the old reservation or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WgError } from '../errors.js';

/** Seqs reserved at a time. */
export const SEQ_BLOCK = 65_536;

const FORMAT = /^wasmgate outbox seqs reserved through (\d+)\n$/;

export function reservationFile(outboxFile: string): string {
  return `${outboxFile}.seq`;
}

/**
 * The highest seq reserved for `outboxFile`; 0 when there is no reservation. A file that is there but
 * cannot be read or does not hold a reservation (zeroed or cut by a failing card, a directory in its
 * place) also reads as 0, and is said to `onProblem`: should the outbox file be lost as well, seqs
 * already handed out would be handed out again, and a consumer's de-duplication would drop the new
 * messages as repeats. That must not happen silently.
 */
export function readReservedSeq(outboxFile: string, onProblem?: (problem: WgError) => void): number {
  const file = reservationFile(outboxFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') onProblem?.(new WgError('WG_ERR_OUTBOX_SEQ_UNREADABLE', { file, detail: `${code ?? 'error'}: ${(error as Error).message}` }, { cause: error }));
    return 0;
  }
  const match = FORMAT.exec(text);
  if (match === null) {
    onProblem?.(new WgError('WG_ERR_OUTBOX_SEQ_UNREADABLE', { file, detail: `${text.length} bytes that are not a reservation` }));
    return 0;
  }
  return Number(match[1]);
}

/** Records that seqs up to `through` are reserved; throws the file system's error (ENOSPC, EROFS...). */
export function reserveSeqs(outboxFile: string, through: number): void {
  const file = reservationFile(outboxFile);
  const fresh = `${file}.new`;
  const fd = openSync(fresh, 'w');
  try {
    writeSync(fd, `wasmgate outbox seqs reserved through ${through}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(fresh, file);
  syncDirectory(dirname(file));
}

/**
 * The marker beside the outbox (`<outbox file>.seq-ahead`) that says seqs may have been handed out
 * ahead of what the outbox file records: a store in front of the durable one (deferred-outbox.ts)
 * numbers messages when they come and writes only those not delivered within its commit delay. A
 * start that finds the marker (the run before did not close) continues after the reservation, a gap
 * that tells a consumer what may be missing, instead of reusing a number it may already have seen.
 * Made once per run, at the first seq handed out ahead; removed by a clean close.
 */
export function seqsAheadFile(outboxFile: string): string {
  return `${outboxFile}.seq-ahead`;
}

/**
 * Whether the marker is there. Anything in its place counts (the safe reading), but what is not a
 * file (a directory) cannot be removed by a clean close, so every start would continue past the
 * reservation, a gap each time that tells a consumer messages may be missing: that is said to `onProblem`.
 */
export function seqsAheadMarked(outboxFile: string, onProblem?: (problem: WgError) => void): boolean {
  const file = seqsAheadFile(outboxFile);
  try {
    if (!statSync(file).isFile()) onProblem?.(new WgError('WG_ERR_OUTBOX_SEQ_MARKER', { file, detail: 'it is not a file (a directory?)' }));
    return true;
  } catch {
    return false;
  }
}

/** Makes the marker, synced with its directory; throws the file system's error. */
export function markSeqsAhead(outboxFile: string): void {
  closeSync(openSync(seqsAheadFile(outboxFile), 'w'));
  syncDirectory(dirname(outboxFile));
}

/** Removes the marker (a clean close); throws the file system's error. */
export function clearSeqsAhead(outboxFile: string): void {
  rmSync(seqsAheadFile(outboxFile), { force: true });
  syncDirectory(dirname(outboxFile));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
