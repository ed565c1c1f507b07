/**
 * kill -9 at random moments loses nothing the SQLite outbox accepted. A real child process
 * (test/support/outbox-writer.ts) appends batches in a loop and says after each append returns which
 * seq it reached; the test kills it with SIGKILL after a random number of batches plus a random delay
 * (so the kill lands inside appends, acks and WAL checkpoints alike), reopens the file, and checks:
 * - the file opens clean (no damage reported: a kill -9 never tears a committed transaction);
 * - every seq the child reported as appended is there, unless an ack it announced covers it;
 * - what is there is gapless from its lowest to its highest seq, and each message is whole (its
 *   payload and topic follow from its seq, so a torn or mixed-up record shows);
 * - the next run continues the seqs after the highest ever handed out.
 * Ten kills in the default suite, on one file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WgError } from '../../src/host/errors.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { payloadOf, topicOf, UPLINK } from '../support/outbox-writer.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), '../support/outbox-writer.js');
const KILLS = 10;
const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-kill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Told {
  appended: number;
  acking: number;
  batches: number;
}

/** Runs the writer until it has reported `batches` appends, waits `delayMs` more, and kills it. */
function runAndKill(file: string, batches: number, delayMs: number): Promise<Told> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const told: Told = { appended: 0, acking: 0, batches: 0 };
    let rest = '';
    let stderr = '';
    let killing = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [what, value] = line.split(' ');
        if (what === 'appended') {
          told.appended = Number(value);
          told.batches++;
        } else if (what === 'acking') told.acking = Number(value);
      }
      if (!killing && told.batches >= batches) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    // 'close': the pipes are drained, so every line written before the kill has been read.
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(told);
      else reject(new Error(`writer ended by itself (code ${code}): ${stderr}`));
    });
  });
}

test(`kill -9 at ${KILLS} random moments loses nothing the outbox accepted`, async () => {
  const file = join(dir, 'outbox.db');
  let highestSeen = 0;
  let ackBound = 0; // the highest ack announced by any run: above it, nothing may be missing
  for (let kill = 1; kill <= KILLS; kill++) {
    const batches = 1 + Math.floor(Math.random() * 40);
    const delayMs = Math.floor(Math.random() * 20);
    const told = await runAndKill(file, batches, delayMs);
    ackBound = Math.max(ackBound, told.acking);
    const where = `kill ${kill} (after ${told.batches} batches reported, +${delayMs} ms)`;

    const problems: WgError[] = [];
    const store = new SqliteOutbox({ file, caps: { default: { maxBytes: 1 << 30, maxAgeMs: 86_400_000, maxDeadLetters: 10 } }, onProblem: (p) => problems.push(p) });
    try {
      assert.deepEqual(problems.map(String), [], `${where}: the file opens clean`);
      const seqs: number[] = [];
      for (let after = 0; ; ) {
        const page = store.pending(UPLINK, 10_000, after);
        if (page.length === 0) break;
        for (const m of page) {
          assert.deepEqual(Buffer.from(m.payload), Buffer.from(payloadOf(m.seq)), `${where}: message ${m.seq} is whole`);
          assert.equal(m.topic, topicOf(m.seq), `${where}: message ${m.seq} has its own topic`);
          seqs.push(m.seq);
        }
        after = page.at(-1)!.seq;
      }
      assert.ok(seqs.length > 0, `${where}: a backlog is on disk`);
      const lowest = seqs[0]!;
      const highest = seqs.at(-1)!;
      assert.equal(seqs.length, highest - lowest + 1, `${where}: gapless from ${lowest} to ${highest}`);
      assert.ok(highest >= told.appended, `${where}: the last reported seq ${told.appended} is there (highest ${highest})`);
      assert.ok(lowest <= ackBound + 1, `${where}: nothing above the last announced ack (${ackBound}) is missing (lowest ${lowest})`);
      assert.ok(highest >= highestSeen, `${where}: nothing the previous run committed went away`);
      assert.equal(store.lastSeq(), highest, `${where}: the next seq follows the highest ever handed out`);
      highestSeen = highest;
    } finally {
      store.close();
    }
  }
});
