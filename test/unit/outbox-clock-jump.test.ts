/**
 * The age cap (`max_age`) against a wall clock that jumps forward: a gateway without a real-time clock
 * (a Raspberry Pi) boots with the time of its last shutdown or 1970, polls and buffers with that
 * time, and then NTP sets the clock right. The age cap judges a message by its creation time
 * against the wall clock (docs/delivery.md, "Caps and drops"), so every reading buffered before the
 * sync is suddenly decades old and dropped, counted, the moment the outbox is next read.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/hal/clock.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { message } from './outbox-contract.js';

const root = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-clock-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DAY_MS = 86_400_000;

test('readings buffered before NTP set the clock (1970 on a board without RTC) are not dropped by age when it does', {
  todo: 'Age is wall time now minus wall time at creation, so a forward step of the clock ages every message by the step. '
    + 'A fix needs an age that survives restarts and ignores steps, e.g. the store keeping, per message or chunk, the '
    + 'monotonic time and a boot id, and judging by monotonic time within one boot, by wall time across boots; or capping '
    + 'the age a step can add. A design question for the outbox store; left open.',
}, () => {
  let wall = 3_600_000; // an hour after the epoch: the board booted without knowing the date
  let mono = 0;
  const clock: Clock = { wallMs: () => wall, monotonicMs: () => mono };
  const store = new SqliteOutbox({ file: join(root, 'outbox.db'), caps: { default: { maxBytes: 1 << 20, maxAgeMs: 7 * DAY_MS, maxDeadLetters: 10 } }, clock });
  try {
    store.append([1, 2, 3].map((n) => message('cloud', n, clock.wallMs())));
    mono += 60_000;
    wall = Date.UTC(2026, 11, 3); // NTP: a minute later, the clock is right
    assert.deepEqual(store.pending('cloud', 10).map((m) => m.seq), [1, 2, 3], 'a minute old, not fifty-six years');
    assert.equal(store.stats('cloud').droppedByAge, 0);
  } finally {
    store.close();
  }
});
