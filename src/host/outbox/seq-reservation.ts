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
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Seqs reserved at a time. */
export const SEQ_BLOCK = 65_536;

const FORMAT = /^wasmgate outbox seqs reserved through (\d+)\n$/;

export function reservationFile(outboxFile: string): string {
  return `${outboxFile}.seq`;
}

/** The highest seq reserved for `outboxFile`; 0 when there is no reservation (or it cannot be read). */
export function readReservedSeq(outboxFile: string): number {
  try {
    const match = FORMAT.exec(readFileSync(reservationFile(outboxFile), 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
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
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
