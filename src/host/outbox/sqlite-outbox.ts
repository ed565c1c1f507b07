/**
 * The durable outbox: one SQLite file in the data directory (better-sqlite3 12), the contract of
 * outbox-store.ts. What it promises on a crash and a power cut is in docs/delivery.md ("The outbox").
 *
 * - WAL journal, and group commit: one `append` batch is one transaction, so a batch of 256 messages
 *   costs one sync, not 256 (an SD card wears by the write, and a sync per message would also cap the
 *   rate at the card's sync rate).
 * - `synchronous = FULL`. In WAL mode, FULL syncs the WAL at every commit, so a transaction that has
 *   committed is on the medium when `append` returns: neither kill -9 nor a power cut loses it.
 *   NORMAL syncs the WAL only at checkpoints: the database stays consistent, and kill -9 loses
 *   nothing (the commit is in the kernel's page cache), but a power cut may roll back the
 *   transactions since the last checkpoint, which the outbox had already reported as accepted. The
 *   issue asks that a power cut lose nothing accepted, so FULL, for the commits that accept messages;
 *   the commits that release them (ack, drop, dead letter) run NORMAL and are synced by the next
 *   append's sync (see `#write`): a lost release only sends a message again. The bench prints what
 *   FULL costs against NORMAL (bench/outbox.bench.ts); group commit keeps it to one sync per batch.
 * - One row per uplink and batch (a chunk, outbox-chunk.ts), not per message: SQLite's cost is per
 *   row. `pending` is a range scan of the chunks by (uplink, last seq); what leaves one by one is
 *   marked in the chunk's `chunk_gone` row, and the chunk is deleted with its last message. An
 *   uplink's counters (depth, drops, the last seq handed out) live in its row of `uplink`, written in
 *   the same transaction as the messages, so they are never out of step after a crash, and `stats`
 *   needs no scan of a large backlog.
 * - On open the file is checked (`PRAGMA quick_check`). A file that is not a database, is cut short or
 *   fails the check is moved aside with its -wal and -shm (`<file>.corrupt-<time>`), reported
 *   (`WG_ERR_OUTBOX_CORRUPT`) and replaced by a fresh one: damage is never served as data. A torn
 *   tail of the WAL (a commit cut by the crash) is SQLite's own to drop: every WAL frame carries a
 *   checksum, and recovery stops at the first frame that does not match, so the half-written
 *   transaction is as if it never began.
 */
import { renameSync, existsSync, statSync, accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../hal/clock.js';
import { WgError } from '../errors.js';
import { clearSeqsAhead, markSeqsAhead, readReservedSeq, reserveSeqs, SEQ_BLOCK, seqsAheadMarked } from './seq-reservation.js';
import { countBits, decodeChunk, encodeChunk, hasBit, recordSizes, setBit, type ChunkInput, type ChunkRecord } from './outbox-chunk.js';
import {
  capsOf,
  messageBytes,
  type BeforeSync,
  type DeadLetter,
  type NewMessage,
  type OutboxCapsTable,
  type OutboxProblemListener,
  type OutboxStats,
  type OutboxStore,
  type StoredMessage,
} from './outbox-store.js';

export type SyncMode = 'FULL' | 'NORMAL';

export interface SqliteOutboxOptions {
  /** The outbox file, in the gateway's data directory. */
  readonly file: string;
  readonly caps: OutboxCapsTable;
  readonly clock?: Clock;
  /** Told about what opening found and repaired (a damaged file moved aside). */
  readonly onProblem?: OutboxProblemListener;
  /** FULL unless a bench compares; see the header for what NORMAL gives up. */
  readonly synchronous?: SyncMode;
  /**
   * A hard limit on the file, in pages of 4 KiB (SQLite's `max_page_count`): past it a batch fails as
   * if the disk were full. The disk-full test uses it where no small file system can be mounted.
   */
  readonly maxPageCount?: number;
}

/** The layout this code reads and writes (`PRAGMA user_version`); another one is not ours to serve. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE uplink (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    last_seq INTEGER NOT NULL DEFAULT 0,
    messages INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    dropped_by_bytes INTEGER NOT NULL DEFAULT 0,
    dropped_by_age INTEGER NOT NULL DEFAULT 0,
    dead_letters INTEGER NOT NULL DEFAULT 0,
    dead_letters_kept INTEGER NOT NULL DEFAULT 0
  );
  -- One row per uplink and append batch (outbox-chunk.ts). first_seq is the rowid: seqs are the
  -- gateway's, so no two chunks share one.
  CREATE TABLE chunk (
    first_seq INTEGER PRIMARY KEY,
    uplink_id INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    min_created_at_ms INTEGER NOT NULL,
    members BLOB NOT NULL,
    records BLOB NOT NULL
  );
  CREATE INDEX chunk_by_uplink ON chunk (uplink_id, last_seq);
  -- Which of a chunk's messages have left (acked, dropped, dead-lettered): a row of its own, so that
  -- marking one never rewrites the chunk.
  CREATE TABLE chunk_gone (first_seq INTEGER PRIMARY KEY, gone BLOB NOT NULL);
  CREATE TABLE dead_letter (
    uplink_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    dead_at_ms INTEGER NOT NULL,
    PRIMARY KEY (uplink_id, seq)
  ) WITHOUT ROWID;
  -- The highest seq handed out by another store (continueAfter), when above every uplink's last_seq.
  CREATE TABLE seq_floor (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** An uplink's row of `uplink`, kept in memory and written back in each transaction that changes it. */
interface UplinkRow {
  id: number;
  name: string;
  last_seq: number;
  messages: number;
  bytes: number;
  dropped_by_bytes: number;
  dropped_by_age: number;
  dead_letters: number;
  dead_letters_kept: number;
}

interface ChunkRow {
  first_seq: number;
  last_seq: number;
  min_created_at_ms: number;
  members: Buffer;
  records: Buffer;
  gone: Buffer | null;
}

interface DeadRow {
  seq: number;
  created_at_ms: number;
  qos: number;
  retain: number;
  topic: string;
  payload: Buffer;
  reason: string;
  dead_at_ms: number;
}

/** A chunk row without its records. */
type ChunkHead = Pick<ChunkRow, 'first_seq' | 'last_seq' | 'gone' | 'members'>;

/** What leaves a chunk in one transaction: the bits to mark, and the chunk they belong to. */
interface Leaving {
  readonly chunk: ChunkRow;
  readonly bits: number[];
}

type Statement = Database.Statement<unknown[], unknown>;

/** A chunk with its gone bitmap. The blobs come last, so a query that stops early reads less. */
const CHUNK_SELECT = 'SELECT c.first_seq, c.last_seq, c.min_created_at_ms, g.gone, c.members, c.records FROM chunk c LEFT JOIN chunk_gone g ON g.first_seq = c.first_seq';

export class SqliteOutbox implements OutboxStore {
  readonly #file: string;
  readonly #caps: OutboxCapsTable;
  readonly #clock: Clock;
  readonly #db: Database.Database;
  readonly #rows = new Map<string, UplinkRow>();
  readonly #sql: Record<string, Statement>;
  /** BEGIN, body, COMMIT (ROLLBACK if it throws): made once, since making one per call shows in the bench. */
  readonly #transaction: (body: () => unknown) => unknown;
  #lastSeq = 0;
  /** Seqs up to this one are reserved in the file beside the outbox (seq-reservation.ts). */
  #reserved: number;
  #floorToWrite = false;
  /** The highest seq a `beforeSync` of the append under way saw: never handed out again, whatever the commit does. */
  #shownUpTo = 0;
  /** The seq-ahead marker is there (seq-reservation.ts): made at the first `assign`, removed by `close`. */
  #aheadMarked = false;
  #closed = false;
  /** The records of the chunk `pending` read last (see #recordsOf). */
  #lastRecords: { firstSeq: number; lastSeq: number; records: Buffer } | undefined;
  /** The mode commits that accept messages use (FULL unless a bench compares), and the one set now. */
  readonly #syncMode: SyncMode;
  #syncNow: SyncMode;

  /** Opens (or creates) the file; throws `WG_ERR_OUTBOX_READ_ONLY`, `_DISK_FULL` or `_STORAGE`. */
  constructor(options: SqliteOutboxOptions) {
    this.#file = options.file;
    this.#caps = options.caps;
    this.#clock = options.clock ?? systemClock;
    this.#reserved = readReservedSeq(this.#file, options.onProblem);
    this.#syncMode = options.synchronous ?? 'FULL';
    this.#syncNow = this.#syncMode;
    this.#db = this.#openChecked(options.onProblem);
    try {
      const fresh = this.#configure(options);
      this.#sql = this.#prepare();
      this.#transaction = this.#db.transaction((body: () => unknown) => body());
      this.#load();
      // A fresh file where seqs were reserved before: the old file was lost (moved aside, deleted),
      // and with it the record of its last seq; continuing after the reservation reuses none. The
      // same when the run before handed seqs out ahead of the file (`assign`) and did not close.
      this.#aheadMarked = seqsAheadMarked(this.#file, options.onProblem);
      if ((fresh || this.#aheadMarked) && this.#reserved > this.#lastSeq) this.continueAfter(this.#reserved);
    } catch (error) {
      this.#db.close();
      throw storageError(error, this.#file);
    }
  }

  append(messages: readonly NewMessage[], beforeSync?: BeforeSync): StoredMessage[] {
    this.#open();
    this.#reserveFor(messages.reduce((n, m) => (m.seq === undefined ? n + 1 : n), 0), messages.at(-1)?.seq);
    return this.#write('accept', () => {
      const stored: StoredMessage[] = [];
      const kept: StoredMessage[] = [];
      const shares = new Map<UplinkRow, ChunkInput[]>();
      for (const m of messages) {
        const row = this.#rowOf(m.uplink, true)!;
        const seq = m.seq ?? this.#lastSeq + 1;
        if (seq > this.#lastSeq) this.#lastSeq = seq;
        row.last_seq = Math.max(row.last_seq, seq);
        // A copy (BeforeSync): the caller's payload may be a view of a ring the pipeline reuses.
        stored.push({ seq, uplink: m.uplink, topic: m.topic, payload: m.payload.slice(), qos: m.qos, retain: m.retain, createdAtMs: m.createdAtMs });
        let share = shares.get(row);
        if (share === undefined) shares.set(row, (share = []));
        const bytes = messageBytes(m.topic, m.payload);
        if (bytes > capsOf(this.#caps, m.uplink).maxBytes) {
          // Can never fit: dropped alone (counted), rather than evicting the whole backlog first.
          row.dropped_by_bytes++;
          continue;
        }
        share.push({ seq, createdAtMs: m.createdAtMs, qos: m.qos, retain: m.retain, topic: m.topic, payload: m.payload });
        kept.push(stored.at(-1)!);
        row.messages++;
        row.bytes += bytes;
      }
      for (const [row, share] of shares) {
        if (share.length > 0) {
          const chunk = encodeChunk(share);
          this.#sql.insertChunk!.run(chunk.firstSeq, row.id, chunk.lastSeq, chunk.minCreatedAtMs, chunk.members, chunk.records);
        }
        this.#dropExpired(row);
        this.#dropOverBytes(row);
        this.#saveRow(row);
      }
      if (this.#floorToWrite) this.#sql.saveFloor!.run(this.#lastSeq);
      this.#floorToWrite = false;
      // Written, not yet synced: the COMMIT that returns from here does the sync.
      if (beforeSync) {
        this.#shownUpTo = this.#lastSeq;
        beforeSync(kept);
      }
      return stored;
    });
  }

  pending(uplink: string, limit: number, afterSeq = 0): StoredMessage[] {
    this.#open();
    const row = this.#rowOf(uplink, false);
    if (row === undefined) return [];
    this.#expire(row);
    const out: StoredMessage[] = [];
    try {
      for (const head of this.#sql.chunkHeadsAfter!.iterate(row.id, afterSeq) as IterableIterator<ChunkHead>) {
        const records = this.#recordsOf(head);
        for (const r of decodeChunk(head.first_seq, head.members, records, head.gone ?? undefined, afterSeq)) {
          out.push(toMessage(uplink, r));
          if (out.length >= limit) return out;
        }
      }
    } catch (error) {
      throw storageError(error, this.#file);
    }
    return out;
  }

  /**
   * A chunk's records, from the one kept of the chunk read last when it is that one. A chunk's records
   * are written once (what leaves is marked in chunk_gone) and its first seq is never another chunk's,
   * so the copy stays true while the chunk exists; a sender that reads one message at a time from the
   * middle of a chunk then does not fetch the chunk's few KiB again for each.
   */
  #recordsOf(head: ChunkHead): Buffer {
    const kept = this.#lastRecords;
    if (kept !== undefined && kept.firstSeq === head.first_seq && kept.lastSeq === head.last_seq) return kept.records;
    const { records } = this.#sql.chunkRecords!.get(head.first_seq) as { records: Buffer };
    this.#lastRecords = { firstSeq: head.first_seq, lastSeq: head.last_seq, records };
    return records;
  }

  ack(uplink: string, seqs: readonly number[]): number {
    this.#open();
    const row = this.#rowOf(uplink, false);
    if (row === undefined || seqs.length === 0) return 0;
    return this.#write('release', () => {
      let removed = 0;
      let chunk: ChunkRow | undefined;
      let sizes: number[] = [];
      let leaving: Leaving | undefined;
      const leavings: Leaving[] = [];
      for (const seq of [...new Set(seqs)].sort((a, b) => a - b)) {
        if (chunk === undefined || seq > chunk.last_seq) {
          chunk = this.#sql.chunkOf!.get(row.id, seq) as ChunkRow | undefined;
          if (chunk === undefined) break; // nothing of this uplink at or after seq
          sizes = recordSizes(chunk.members, chunk.records);
          leaving = { chunk, bits: [] };
          leavings.push(leaving);
        }
        const bit = seq - chunk.first_seq;
        if (bit < 0 || sizes[bit] === undefined || sizes[bit]! < 0 || (chunk.gone !== null && hasBit(chunk.gone, bit))) continue;
        leaving!.bits.push(bit);
        removed++;
        row.messages--;
        row.bytes -= sizes[bit]!;
      }
      for (const l of leavings) this.#markGone(l);
      if (removed > 0) this.#saveRow(row);
      return removed;
    });
  }

  deadLetter(uplink: string, seq: number, reason: string): boolean {
    this.#open();
    const row = this.#rowOf(uplink, false);
    if (row === undefined) return false;
    return this.#write('release', () => {
      const chunk = this.#sql.chunkOf!.get(row.id, seq) as ChunkRow | undefined;
      if (chunk === undefined) return false;
      let found: ChunkRecord | undefined;
      for (const r of decodeChunk(chunk.first_seq, chunk.members, chunk.records, chunk.gone ?? undefined, seq - 1)) {
        if (r.seq === seq) found = r;
        break;
      }
      if (found === undefined) return false;
      this.#sql.bury!.run(row.id, seq, found.createdAtMs, found.qos, found.retain ? 1 : 0, found.topic, found.payload, reason, this.#clock.wallMs());
      this.#markGone({ chunk, bits: [seq - chunk.first_seq] });
      row.messages--;
      row.bytes -= found.bytes;
      row.dead_letters++;
      row.dead_letters_kept++;
      const over = row.dead_letters_kept - capsOf(this.#caps, uplink).maxDeadLetters;
      if (over > 0) row.dead_letters_kept -= this.#sql.forgetDead!.run(row.id, row.id, over).changes;
      this.#saveRow(row);
      return true;
    });
  }

  deadLetters(uplink: string, limit: number): DeadLetter[] {
    this.#open();
    const row = this.#rowOf(uplink, false);
    if (row === undefined) return [];
    const rows = this.#sql.dead!.all(row.id, limit) as DeadRow[];
    return rows.map((r) => ({
      seq: r.seq,
      uplink,
      topic: r.topic,
      payload: r.payload,
      qos: r.qos as 0 | 1,
      retain: r.retain === 1,
      createdAtMs: r.created_at_ms,
      reason: r.reason,
      deadAtMs: r.dead_at_ms,
    }));
  }

  stats(uplink: string): OutboxStats {
    this.#open();
    const row = this.#rowOf(uplink, false);
    if (row === undefined) return { uplink, messages: 0, bytes: 0, oldestAgeMs: 0, droppedByBytes: 0, droppedByAge: 0, deadLetters: 0, deadLettersKept: 0 };
    this.#expire(row);
    const oldest = this.#head(row);
    return {
      uplink,
      messages: row.messages,
      bytes: row.bytes,
      oldestAgeMs: oldest === undefined ? 0 : Math.max(0, this.#clock.wallMs() - oldest.createdAtMs),
      droppedByBytes: row.dropped_by_bytes,
      droppedByAge: row.dropped_by_age,
      deadLetters: row.dead_letters,
      deadLettersKept: row.dead_letters_kept,
    };
  }

  lastSeq(): number {
    return this.#lastSeq;
  }

  assign(count: number): number {
    this.#open();
    if (!this.#aheadMarked && count > 0) {
      try {
        markSeqsAhead(this.#file);
      } catch (error) {
        throw fileSystemError(error, this.#file);
      }
      this.#aheadMarked = true;
    }
    this.#reserveFor(count);
    const first = this.#lastSeq + 1;
    this.#lastSeq += count;
    // Recorded in the file by the next commit or the close; a crash before is covered by the marker.
    if (count > 0) this.#floorToWrite = true;
    return first;
  }

  continueAfter(seq: number): void {
    if (seq <= this.#lastSeq) return;
    this.#lastSeq = seq;
    this.#floorToWrite = true;
    try {
      this.#write('accept', () => {
        this.#sql.saveFloor!.run(seq);
        this.#floorToWrite = false;
      });
    } catch {
      // Still owed: the next append writes it in its own transaction.
      this.#floorToWrite = true;
    }
  }

  close(): void {
    if (this.#closed) return;
    if (this.#aheadMarked) this.#recordSeqsAhead();
    this.#closed = true;
    this.#db.close();
  }

  /**
   * A clean close after seqs were handed out ahead: the last one goes into the file and the marker
   * away, so the next start goes on without a gap. Should either fail, the marker stays, and the next
   * start continues after the reservation instead.
   */
  #recordSeqsAhead(): void {
    try {
      this.#write('accept', () => {
        this.#sql.saveFloor!.run(this.#lastSeq);
        this.#floorToWrite = false;
      });
      clearSeqsAhead(this.#file);
      this.#aheadMarked = false;
    } catch {
      // The marker stays: see above.
    }
  }

  // --- opening ---

  /** Opens the file, and moves it aside first if it is damaged or not an outbox (see the header). */
  #openChecked(onProblem: OutboxProblemListener | undefined): Database.Database {
    const damage = this.#damageOf();
    if (damage === undefined) return openFile(this.#file);
    const movedTo = moveAside(this.#file, this.#clock);
    onProblem?.(new WgError('WG_ERR_OUTBOX_CORRUPT', { file: this.#file, detail: damage, movedTo }));
    return openFile(this.#file);
  }

  /**
   * What is wrong with the file, or undefined when it is sound (or new). The check reads through a
   * read-only connection: closing a writable one would checkpoint the WAL into the damaged file, and
   * the file moved aside must stay as the crash left it.
   */
  #damageOf(): string | undefined {
    if (!existsSync(this.#file)) {
      // A WAL without its database would be replayed into the fresh file SQLite creates.
      return existsSync(`${this.#file}-wal`) ? 'the database file is missing but its WAL is there' : undefined;
    }
    if (statSync(this.#file).size === 0 && !existsSync(`${this.#file}-wal`)) {
      // SQLite takes an empty file for a new database; ours never is empty once created, so an empty
      // one was cut to nothing, and serving it as "no backlog" would hide the loss.
      return 'the file is empty';
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(this.#file, { readonly: true });
      const check = db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') return check;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION) return `layout version ${version}, this gateway reads ${SCHEMA_VERSION}`;
      return undefined;
    } catch (error) {
      if (isDamage(error)) return (error as Error).message;
      throw storageError(error, this.#file);
    } finally {
      db?.close();
    }
  }

  /** Sets the file up; true when it was new (the layout written now). */
  #configure(options: SqliteOutboxOptions): boolean {
    // Held from the first access to the close: a second gateway on the same data_dir would number its
    // messages from the same last seq, and a consumer would take the other's for repeats. With it, that
    // gateway's open is refused (WG_ERR_OUTBOX_IN_USE) instead. Set before the WAL is, so the WAL keeps
    // its index in this process (no -shm file).
    this.#db.pragma('locking_mode = EXCLUSIVE');
    const mode = this.#db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new WgError('WG_ERR_OUTBOX_STORAGE', { file: this.#file, detail: `the file system refuses a WAL journal (journal mode ${mode})` });
    this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    // Checkpoints keep the WAL near 4 MiB (SQLite's 1000 pages); this truncates it back after one that
    // had to grow it (a long read during a large batch), so the card keeps its space.
    this.#db.pragma('journal_size_limit = 16777216');
    if (options.maxPageCount !== undefined) this.#db.pragma(`max_page_count = ${options.maxPageCount}`);
    if ((this.#db.pragma('user_version', { simple: true }) as number) !== 0) return false;
    this.#db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
    return true;
  }

  #prepare(): Record<string, Statement> {
    const db = this.#db;
    return {
      insertChunk: db.prepare('INSERT INTO chunk (first_seq, uplink_id, last_seq, min_created_at_ms, members, records) VALUES (?, ?, ?, ?, ?, ?)'),
      chunksAfter: db.prepare(`${CHUNK_SELECT} WHERE c.uplink_id = ? AND c.last_seq > ? ORDER BY c.last_seq`),
      // Without the records, which lie in overflow pages: SQLite reads the columns before them alone.
      chunkHeadsAfter: db.prepare('SELECT c.first_seq, c.last_seq, g.gone, c.members FROM chunk c LEFT JOIN chunk_gone g ON g.first_seq = c.first_seq WHERE c.uplink_id = ? AND c.last_seq > ? ORDER BY c.last_seq'),
      chunkRecords: db.prepare('SELECT records FROM chunk WHERE first_seq = ?'),
      chunkOf: db.prepare(`${CHUNK_SELECT} WHERE c.uplink_id = ? AND c.last_seq >= ? ORDER BY c.last_seq LIMIT 1`),
      headChunk: db.prepare('SELECT min_created_at_ms FROM chunk WHERE uplink_id = ? ORDER BY last_seq LIMIT 1'),
      deleteChunk: db.prepare('DELETE FROM chunk WHERE first_seq = ?'),
      deleteGone: db.prepare('DELETE FROM chunk_gone WHERE first_seq = ?'),
      saveGone: db.prepare('INSERT OR REPLACE INTO chunk_gone (first_seq, gone) VALUES (?, ?)'),
      bury: db.prepare('INSERT INTO dead_letter (uplink_id, seq, created_at_ms, qos, retain, topic, payload, reason, dead_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      forgetDead: db.prepare('DELETE FROM dead_letter WHERE uplink_id = ? AND seq IN (SELECT seq FROM dead_letter WHERE uplink_id = ? ORDER BY seq LIMIT ?)'),
      dead: db.prepare('SELECT seq, created_at_ms, qos, retain, topic, payload, reason, dead_at_ms FROM dead_letter WHERE uplink_id = ? ORDER BY seq LIMIT ?'),
      addUplink: db.prepare('INSERT INTO uplink (name) VALUES (?) RETURNING *'),
      saveRow: db.prepare(
        'UPDATE uplink SET last_seq = @last_seq, messages = @messages, bytes = @bytes, dropped_by_bytes = @dropped_by_bytes, dropped_by_age = @dropped_by_age, dead_letters = @dead_letters, dead_letters_kept = @dead_letters_kept WHERE id = @id',
      ),
      saveFloor: db.prepare('INSERT INTO seq_floor (id, last_seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)'),
    };
  }

  /** Reads the uplinks' rows and the highest seq ever handed out (acked messages leave it behind). */
  #load(): void {
    for (const row of this.#db.prepare('SELECT * FROM uplink').all() as UplinkRow[]) {
      this.#rows.set(row.name, row);
      this.#lastSeq = Math.max(this.#lastSeq, row.last_seq);
    }
    const floor = this.#db.prepare('SELECT last_seq FROM seq_floor').get() as { last_seq: number } | undefined;
    this.#lastSeq = Math.max(this.#lastSeq, floor?.last_seq ?? 0);
  }

  // --- writing ---

  /** Extends the reservation, a block ahead, before a batch would hand out seqs past it. */
  /** Reserves on disk the seqs of `count` new messages and, when given, up to `upTo` (an assigned seq). */
  #reserveFor(count: number, upTo = 0): void {
    const needed = Math.max(this.#lastSeq + count, upTo);
    if (needed <= this.#reserved) return;
    try {
      reserveSeqs(this.#file, needed + SEQ_BLOCK);
    } catch (error) {
      throw fileSystemError(error, this.#file);
    }
    this.#reserved = needed + SEQ_BLOCK;
  }

  /**
   * Runs `body` as one transaction. On failure SQLite rolls the transaction back, and so is the copy
   * in memory (the uplinks' rows and the next seq): a refused batch leaves no trace, not even a seq.
   */
  #write<T>(kind: 'accept' | 'release', body: () => T): T {
    // Only what accepts a message must be synced before the call returns. What releases one (an ack,
    // a drop, a dead letter) commits without a sync of its own and is synced with the next append (the
    // WAL is written in order, and every sync covers all frames before it): a power cut can undo
    // such a commit, and then the message is sent again, which at-least-once allows. This is what
    // makes a replay cost no sync per ack batch.
    const sync = kind === 'accept' ? this.#syncMode : 'NORMAL';
    if (sync !== this.#syncNow) {
      this.#db.pragma(`synchronous = ${sync}`);
      this.#syncNow = sync;
    }
    const rows = new Map([...this.#rows].map(([name, row]) => [name, { ...row }]));
    const lastSeq = this.#lastSeq;
    const floorToWrite = this.#floorToWrite;
    try {
      return this.#transaction(body) as T;
    } catch (error) {
      this.#rows.clear();
      for (const [name, row] of rows) this.#rows.set(name, row);
      this.#lastSeq = lastSeq;
      this.#floorToWrite = floorToWrite;
      if (this.#shownUpTo > lastSeq) {
        // Those seqs may be on the wire: the next commit records the floor past them (the reservation
        // file beside the outbox already covers them across a crash).
        this.#lastSeq = this.#shownUpTo;
        this.#floorToWrite = true;
      }
      throw storageError(error, this.#file);
    }
  }

  #rowOf(uplink: string, create: boolean): UplinkRow | undefined {
    let row = this.#rows.get(uplink);
    if (row === undefined && create) {
      row = this.#sql.addUplink!.get(uplink) as UplinkRow;
      this.#rows.set(uplink, row);
    }
    return row;
  }

  #saveRow(row: UplinkRow): void {
    this.#sql.saveRow!.run(row);
  }

  /** Drops expired messages in a transaction of their own, when there are any (pending, stats). */
  #expire(row: UplinkRow): void {
    const head = this.#sql.headChunk!.get(row.id) as { min_created_at_ms: number } | undefined;
    if (head === undefined || head.min_created_at_ms >= this.#oldestKept(row)) return;
    this.#write('release', () => {
      if (this.#dropExpired(row) > 0) this.#saveRow(row);
    });
  }

  #oldestKept(row: UplinkRow): number {
    return this.#clock.wallMs() - capsOf(this.#caps, row.name).maxAgeMs;
  }

  /** The uplink's oldest pending message. */
  #head(row: UplinkRow): ChunkRecord | undefined {
    for (const chunk of this.#sql.chunksAfter!.iterate(row.id, 0) as IterableIterator<ChunkRow>) {
      for (const r of decodeChunk(chunk.first_seq, chunk.members, chunk.records, chunk.gone ?? undefined)) return r;
    }
    return undefined;
  }

  /** From the head, while older than the age cap (the head is the lowest seq: order is never changed). */
  #dropExpired(row: UplinkRow): number {
    const oldestKept = this.#oldestKept(row);
    const head = this.#sql.headChunk!.get(row.id) as { min_created_at_ms: number } | undefined;
    if (head === undefined || head.min_created_at_ms >= oldestKept) return 0;
    return this.#dropHead(row, 'dropped_by_age', (r) => r.createdAtMs < oldestKept);
  }

  #dropOverBytes(row: UplinkRow): void {
    const { maxBytes } = capsOf(this.#caps, row.name);
    if (row.bytes <= maxBytes) return;
    let left = row.bytes;
    this.#dropHead(row, 'dropped_by_bytes', (r) => {
      if (left <= maxBytes) return false;
      left -= r.bytes;
      return true;
    });
  }

  /** Marks gone the run of oldest messages for which `drop` holds, counted under `counter`; returns how many. */
  #dropHead(row: UplinkRow, counter: 'dropped_by_age' | 'dropped_by_bytes', drop: (r: ChunkRecord) => boolean): number {
    const leavings: Leaving[] = [];
    let count = 0;
    let bytes = 0;
    // Read first, write after: a statement being iterated keeps the connection busy.
    walk: for (const chunk of this.#sql.chunksAfter!.iterate(row.id, 0) as IterableIterator<ChunkRow>) {
      const leaving: Leaving = { chunk, bits: [] };
      leavings.push(leaving);
      for (const r of decodeChunk(chunk.first_seq, chunk.members, chunk.records, chunk.gone ?? undefined)) {
        if (!drop(r)) break walk;
        leaving.bits.push(r.seq - chunk.first_seq);
        count++;
        bytes += r.bytes;
      }
    }
    for (const l of leavings) this.#markGone(l);
    row.messages -= count;
    row.bytes -= bytes;
    row[counter] += count;
    return count;
  }

  /** Records that messages left a chunk; deletes the chunk when none is left in it. */
  #markGone({ chunk, bits }: Leaving): void {
    if (bits.length === 0) return;
    const gone = chunk.gone === null ? Buffer.alloc(chunk.members.length) : Buffer.from(chunk.gone);
    for (const bit of bits) setBit(gone, bit);
    chunk.gone = gone;
    if (countBits(gone) >= countBits(chunk.members)) {
      this.#sql.deleteChunk!.run(chunk.first_seq);
      this.#sql.deleteGone!.run(chunk.first_seq);
    } else {
      this.#sql.saveGone!.run(chunk.first_seq, gone);
    }
  }

  #open(): void {
    if (this.#closed) throw new WgError('WG_ERR_OUTBOX_CLOSED', { detail: this.#file });
  }
}

function openFile(file: string): Database.Database {
  try {
    return new Database(file);
  } catch (error) {
    throw storageError(error, file);
  }
}

function toMessage(uplink: string, r: ChunkRecord): StoredMessage {
  return { seq: r.seq, uplink, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, createdAtMs: r.createdAtMs };
}

function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function isDamage(error: unknown): boolean {
  const code = sqliteCode(error);
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');
}

/** What a failure of the file means for the caller, as a code it can branch on (see docs/errors.md). */
export function storageError(error: unknown, file: string): WgError {
  if (error instanceof WgError) return error;
  const code = sqliteCode(error);
  const detail = `${code || 'error'}: ${(error as Error)?.message ?? String(error)}`;
  // The file is held by another connection (sqlite-outbox.ts #configure): another gateway runs on it.
  if (code.startsWith('SQLITE_BUSY')) return new WgError('WG_ERR_OUTBOX_IN_USE', { file, detail }, { cause: error });
  if (code.startsWith('SQLITE_FULL')) return new WgError('WG_ERR_OUTBOX_DISK_FULL', { file, detail }, { cause: error });
  if (code.startsWith('SQLITE_READONLY') || (code.startsWith('SQLITE_CANTOPEN') && !writable(dirname(file)))) {
    return new WgError('WG_ERR_OUTBOX_READ_ONLY', { file, detail }, { cause: error });
  }
  return new WgError('WG_ERR_OUTBOX_STORAGE', { file, detail }, { cause: error });
}

/** A Node file system error (writing the seq reservation) as the same codes SQLite's get. */
function fileSystemError(error: unknown, file: string): WgError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const detail = `${code}: ${(error as Error).message}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new WgError('WG_ERR_OUTBOX_DISK_FULL', { file, detail }, { cause: error });
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new WgError('WG_ERR_OUTBOX_READ_ONLY', { file, detail }, { cause: error });
  return new WgError('WG_ERR_OUTBOX_STORAGE', { file, detail }, { cause: error });
}

/** Whether the directory takes new files (EROFS and EACCES both say no; root passes EACCES checks). */
function writable(directory: string): boolean {
  try {
    accessSync(directory, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Renames the file and its -wal and -shm to `<file>.corrupt-<time>[-n]`; returns the new name. */
function moveAside(file: string, clock: Clock): string {
  const stamp = new Date(clock.wallMs()).toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let n = 1; existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`;
  try {
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  } catch (error) {
    throw new WgError('WG_ERR_OUTBOX_STORAGE', { file, detail: `cannot move the damaged file aside: ${(error as Error).message}` }, { cause: error });
  }
  return target;
}
