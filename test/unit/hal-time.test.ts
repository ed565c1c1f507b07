// Time as operators read it and as long waits need it (issue 6): a timeout message printed the
// monotonic clock's raw difference (`no answer within 999.9979410000001 ms`), and an `interval` above
// 2^31-1 ms (`720h`, a monthly meter read) made setTimeout fire after 1 ms with a
// TimeoutOverflowWarning, polling the device every millisecond.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/hal/duration.js';
import { monotonicTimeout, MAX_TIMER_MS } from '../../src/hal/timer.js';
import { systemClock, type Clock } from '../../src/hal/clock.js';

test('durations print as durations: rounded to what their size can tell', () => {
  assert.equal(formatDuration(999.9979410000001), '1 s');
  assert.equal(formatDuration(300), '300 ms');
  assert.equal(formatDuration(12.4), '12 ms');
  assert.equal(formatDuration(1_500), '1.5 s');
  assert.equal(formatDuration(59_990), '1 min');
  assert.equal(formatDuration(90_000), '1 min 30 s');
  assert.equal(formatDuration(720 * 3_600_000), '720 h');
  assert.equal(formatDuration(0.25), '0.25 ms');
  assert.equal(formatDuration(Infinity), 'forever');
});

test('a timeout longer than setTimeout can hold is a chain of timers on the clock: it fires once, when the clock says', async () => {
  // A clock that moves 100 ms every time it is read, and links of at most 5 ms of real time: the
  // 1000 ms wait needs several links, and must fire on the first reading at or past its due time.
  let now = 0;
  let reads = 0;
  const clock: Clock = { wallMs: () => now, monotonicMs: () => ((reads++), (now += 100)) };
  let fired = 0;
  let firedAt = -1;
  await new Promise<void>((resolve) => {
    monotonicTimeout(clock, 1_000, () => {
      fired++;
      firedAt = now;
      resolve();
    }, 5);
  });
  assert.equal(fired, 1);
  assert.ok(reads >= 10, `the wait re-read the clock at each link (${reads} reads)`);
  assert.ok(firedAt >= 1_100, `fired at clock ${firedAt}, due at 1100 (armed at 100)`);
});

test('a 720 h timeout neither fires early nor warns, and cancel() stops it', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    let fired = false;
    const wait = monotonicTimeout(systemClock, 720 * 3_600_000, () => (fired = true));
    assert.ok(720 * 3_600_000 > MAX_TIMER_MS, 'the case is past what setTimeout can hold');
    // A window of 100 one-millisecond timer turns: had the timer overflowed, it fired in the first.
    for (let i = 0; i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fired, false);
    assert.deepEqual(warnings.map((w) => w.name), []);
    wait.cancel();
  } finally {
    process.off('warning', onWarning);
  }
});
