/**
 * The seq reservation beside the outbox (`outbox.db.seq`) damaged: zeroed or cut by failing storage,
 * or a directory in its place. It used to read as "no reservation" without a word, so a start that
 * also lost the outbox file began the seqs at 1 again in silence, and consumers de-duplicating by seq
 * (docs/delivery.md) dropped the new messages as repeats. Damage is reported now
 * (WG_ERR_OUTBOX_SEQ_UNREADABLE); with the outbox file intact, its own last seq carries on.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WgError } from '../../src/host/errors.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { reservationFile, SEQ_BLOCK, seqsAheadFile } from '../../src/host/outbox/seq-reservation.js';
import type { OutboxCapsTable } from '../../src/host/outbox/outbox-store.js';
import { message, ROOMY } from './outbox-contract.js';

const root = mkdtempSync(join(tmpdir(), 'wasmgate-seq-damage-'));
after(() => rmSync(root, { recursive: true, force: true }));
const caps: OutboxCapsTable = { default: ROOMY };

/** A closed outbox that handed out seqs 1..count in one batch. */
function outboxWith(count: number): string {
  const file = join(mkdtempSync(join(root, 'case-')), 'outbox.db');
  const store = new SqliteOutbox({ file, caps });
  store.append(Array.from({ length: count }, (_, i) => message('a', i, Date.now())));
  store.close();
  return file;
}

function open(file: string): { store: SqliteOutbox; problems: WgError[] } {
  const problems: WgError[] = [];
  return { store: new SqliteOutbox({ file, caps, onProblem: (p) => problems.push(p) }), problems };
}

const codes = (problems: readonly WgError[]): string[] => problems.map((p) => p.code).sort();

test('a zeroed reservation lost with a damaged outbox file is reported beside WG_ERR_OUTBOX_CORRUPT', () => {
  const file = outboxWith(10);
  const seqFile = reservationFile(file);
  writeFileSync(seqFile, Buffer.alloc(statSync(seqFile).size)); // a card that returns zeros
  writeFileSync(file, Buffer.alloc(statSync(file).size));
  const { store, problems } = open(file);
  try {
    assert.deepEqual(codes(problems), ['WG_ERR_OUTBOX_CORRUPT', 'WG_ERR_OUTBOX_SEQ_UNREADABLE']);
    const unreadable = problems.find((p) => p.code === 'WG_ERR_OUTBOX_SEQ_UNREADABLE')!;
    assert.equal(unreadable.context.file, seqFile);
    // Nothing records seqs 1..10 now: they are handed out again, and the report is what says so.
    assert.deepEqual(store.append([message('a', 1, Date.now())]).map((m) => m.seq), [1]);
  } finally {
    store.close();
  }
});

test('a reservation cut short, with the outbox file intact: reported, and seqs go on from the outbox file', () => {
  const file = outboxWith(10);
  writeFileSync(reservationFile(file), 'wasmgate outbox seqs reser');
  const { store, problems } = open(file);
  try {
    assert.deepEqual(codes(problems), ['WG_ERR_OUTBOX_SEQ_UNREADABLE']);
    assert.deepEqual(store.append([message('a', 1, Date.now())]).map((m) => m.seq), [11]);
  } finally {
    store.close();
  }
  // That batch wrote a fresh reservation: the next start reads it, and says nothing.
  assert.equal(readFileSync(reservationFile(file), 'utf8'), `wasmgate outbox seqs reserved through ${11 + SEQ_BLOCK}\n`);
  const again = open(file);
  again.store.close();
  assert.deepEqual(again.problems, []);
});

test('a directory in place of the reservation is reported at open, and a batch that cannot reserve seqs is refused', () => {
  const file = outboxWith(1);
  rmSync(reservationFile(file));
  mkdirSync(reservationFile(file));
  const { store, problems } = open(file);
  try {
    assert.deepEqual(codes(problems), ['WG_ERR_OUTBOX_SEQ_UNREADABLE']);
    // It read no reservation, so its first batch must write one first, and cannot.
    assert.throws(() => store.append([message('a', 1, Date.now())]), (e: WgError) => e.code === 'WG_ERR_OUTBOX_STORAGE');
    assert.equal(store.lastSeq(), 1, 'the refused batch took no seq');
  } finally {
    store.close();
  }
});

test('no reservation file at all (a new data directory) is not a problem', () => {
  const file = join(mkdtempSync(join(root, 'case-')), 'outbox.db');
  const { store, problems } = open(file);
  store.close();
  assert.deepEqual(problems, []);
});

test('a directory in place of the seq-ahead marker is reported: it can never be removed, so every start after a clean stop continues past the reservation', () => {
  const file = outboxWith(3);
  mkdirSync(seqsAheadFile(file));
  const { store, problems } = open(file);
  try {
    assert.deepEqual(codes(problems), ['WG_ERR_OUTBOX_SEQ_MARKER']);
    assert.match(problems[0]!.message, /seq-ahead.* is not a file/);
    // Safe, and said: the start takes it for a marker and continues after the reservation (a gap).
    assert.equal(store.append([message('a', 4, Date.now())])[0]!.seq, 3 + SEQ_BLOCK + 1);
  } finally {
    store.close();
  }
});
