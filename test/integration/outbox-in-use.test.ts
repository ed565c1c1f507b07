/**
 * Two gateways on one data_dir: the second must not number messages from the same outbox. A real
 * second process (test/support/outbox-writer.ts) holds the file and appends to it; the open here, as
 * the gateway opens its outbox (through the memory fallback), is refused with WG_ERR_OUTBOX_IN_USE
 * instead of going on with the same last seq, or in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWgError } from '../../src/host/errors.js';
import { FallbackOutbox } from '../../src/host/outbox/fallback-outbox.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), '../support/outbox-writer.js');
const caps = { default: { maxBytes: 1 << 30, maxAgeMs: 86_400_000, maxDeadLetters: 10 } };

test('an outbox another process has open is refused with WG_ERR_OUTBOX_IN_USE, not shared and not replaced by memory; free again once that process is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-in-use-'));
  const file = join(dir, 'outbox.db');
  const writer = spawn(process.execPath, [WRITER, file, '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => writer.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on('data', (chunk: Buffer) => (chunk.toString().includes('appended') ? resolve() : undefined));
      writer.once('exit', (code) => reject(new Error(`the writer exited (${code}) before its first append`)));
    });
    assert.throws(
      () => new FallbackOutbox({ openDurable: () => new SqliteOutbox({ file, caps }), memoryCaps: caps }),
      (error) => isWgError(error, 'WG_ERR_OUTBOX_IN_USE'),
    );
    writer.kill('SIGKILL');
    await exited;
    const after = new SqliteOutbox({ file, caps });
    assert.ok(after.lastSeq() >= 16, 'what the writer committed is there, and the file opens once it is free');
    after.close();
  } finally {
    writer.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
