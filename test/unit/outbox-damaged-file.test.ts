/**
 * A damaged outbox file is never served as data: on open the SQLite outbox checks the file, and one
 * that is not a database, is cut short mid-page, has garbage over part of it, is empty, or holds
 * another layout is moved aside with a timestamped name, reported as WG_ERR_OUTBOX_CORRUPT, and
 * replaced by a fresh outbox. Files are damaged here by hand (bytes written over, truncate), as a
 * failing SD card or a crash of the file system would leave them.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isWgError, type WgError } from '../../src/host/errors.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { SEQ_BLOCK } from '../../src/host/outbox/seq-reservation.js';
import type { OutboxCapsTable } from '../../src/host/outbox/outbox-store.js';
import { message, ROOMY } from './outbox-contract.js';

const root = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-damage-'));
after(() => rmSync(root, { recursive: true, force: true }));
const caps: OutboxCapsTable = { default: ROOMY };

/** A closed outbox file holding `count` messages of 100 bytes (about 35 a 4 KiB page). */
function outboxWith(count: number): string {
  const dir = mkdtempSync(join(root, 'case-'));
  const file = join(dir, 'outbox.db');
  const store = new SqliteOutbox({ file, caps });
  for (let i = 0; i < count; i += 100) store.append(Array.from({ length: Math.min(100, count - i) }, (_, k) => message('a', i + k, Date.now(), 100)));
  store.close();
  return file;
}

function writeAt(file: string, position: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    closeSync(fd);
  }
}

/** Opens `file` and asserts that it was found damaged, moved aside whole, and replaced by an empty outbox. */
function assertMovedAside(file: string, original: Buffer, damagedLastSeq: number): void {
  const problems: WgError[] = [];
  const store = new SqliteOutbox({ file, caps, onProblem: (p) => problems.push(p) });
  try {
    assert.equal(problems.length, 1, `one problem reported, got ${problems.map(String).join('; ')}`);
    const [problem] = problems;
    assert.ok(isWgError(problem, 'WG_ERR_OUTBOX_CORRUPT'), String(problem));
    const movedTo = problem!.context.movedTo as string;
    assert.match(movedTo, /outbox\.db\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    assert.ok(readFileSync(movedTo).equals(original), 'the damaged file is kept as it was, for analysis');
    assert.deepEqual(store.pending('a', 10), [], 'nothing of the damaged file is served');
    assert.equal(store.stats('a').messages, 0);
    const [next] = store.append([message('a', 1, Date.now())]);
    assert.ok(next!.seq > damagedLastSeq, `no seq of the damaged file is handed out again (next ${next!.seq}, the file had up to ${damagedLastSeq})`);
  } finally {
    store.close();
  }
  const again: WgError[] = [];
  new SqliteOutbox({ file, caps, onProblem: (p) => again.push(p) }).close();
  assert.deepEqual(again, [], 'the fresh file opens clean');
}

test('a file with garbage over its header is moved aside', () => {
  const file = outboxWith(500);
  writeAt(file, 0, randomBytes(100));
  assertMovedAside(file, readFileSync(file), 500);
});

test('a file cut short in the middle of a page is moved aside', () => {
  const file = outboxWith(2000);
  const size = statSync(file).size;
  assert.ok(size > 8 * 4096, `a file of many pages (${size} bytes)`);
  truncateSync(file, Math.floor(size / 2 / 4096) * 4096 + 1000);
  assertMovedAside(file, readFileSync(file), 2000);
});

test('a file with garbage over pages in its middle is moved aside', () => {
  const file = outboxWith(2000);
  const size = statSync(file).size;
  writeAt(file, Math.floor(size / 2 / 4096) * 4096, randomBytes(3 * 4096));
  assertMovedAside(file, readFileSync(file), 2000);
});

test('an empty file is taken as damaged, not as an outbox with no backlog', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  const file = join(dir, 'outbox.db');
  writeFileSync(file, '');
  assertMovedAside(file, Buffer.alloc(0), 0);
});

test('a database of another layout (user_version) is moved aside, not written into', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  const file = join(dir, 'outbox.db');
  const other = new Database(file);
  other.exec('CREATE TABLE t (x); PRAGMA user_version = 7;');
  other.close();
  assertMovedAside(file, readFileSync(file), 0);
});

test('the -wal of a damaged file moves aside with it, so it is never replayed into the fresh one', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  const file = join(dir, 'outbox.db');
  // What kill -9 leaves: a file and its WAL, copied while their writer was still open.
  const scratch = join(mkdtempSync(join(root, 'scratch-')), 'other.db');
  const db = new Database(scratch);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1); PRAGMA user_version = 7;');
  copyFileSync(scratch, file);
  copyFileSync(`${scratch}-wal`, `${file}-wal`);
  db.close();
  const wal = readFileSync(`${file}-wal`);
  assert.ok(wal.length > 0);
  const problems: WgError[] = [];
  new SqliteOutbox({ file, caps, onProblem: (p) => problems.push(p) }).close();
  const movedTo = problems[0]?.context.movedTo as string;
  assert.ok(isWgError(problems[0], 'WG_ERR_OUTBOX_CORRUPT'));
  assert.ok(readFileSync(`${movedTo}-wal`).equals(wal), 'the WAL was moved with its file, as it was');
});

test('a lost outbox file (deleted) leaves its seqs reserved: a fresh one continues after the reservation', () => {
  const file = outboxWith(3);
  rmSync(file);
  const store = new SqliteOutbox({ file, caps });
  try {
    // The 3 messages went in one batch, which reserved 3 + SEQ_BLOCK seqs.
    assert.equal(store.lastSeq(), 3 + SEQ_BLOCK);
    assert.deepEqual(store.append([message('a', 1, Date.now())]).map((m) => m.seq), [3 + SEQ_BLOCK + 1]);
  } finally {
    store.close();
  }
});

test('a WAL whose database file is gone is moved aside, not replayed into a fresh file', () => {
  const dir = mkdtempSync(join(root, 'case-'));
  const file = join(dir, 'outbox.db');
  const scratch = join(mkdtempSync(join(root, 'scratch-')), 'outbox.db');
  const writer = new SqliteOutbox({ file: scratch, caps });
  writer.append([message('a', 1, Date.now())]);
  copyFileSync(`${scratch}-wal`, `${file}-wal`); // the WAL of an outbox that was never closed
  writer.close();
  const wal = readFileSync(`${file}-wal`);
  const problems: WgError[] = [];
  const store = new SqliteOutbox({ file, caps, onProblem: (p) => problems.push(p) });
  try {
    assert.ok(isWgError(problems[0], 'WG_ERR_OUTBOX_CORRUPT'), String(problems[0]));
    assert.ok(readFileSync(`${problems[0]!.context.movedTo as string}-wal`).equals(wal));
    assert.deepEqual(store.pending('a', 10), []);
  } finally {
    store.close();
  }
});
