// A failure that repeats at the poll or batch rate is logged once, then at most once per interval
// with the count of what was held back (a plugin trapping on every call used to write a line per call).
import test from 'node:test';
import assert from 'node:assert/strict';
import { RepeatLog } from '../../src/host/pipeline/repeat-log.js';

const E = { event: 'plugin.batch_dropped' } as const;

function harness() {
  let now = 0;
  const lines: Array<{ message: string; context: Record<string, unknown> }> = [];
  const log = new RepeatLog((_level, message, context) => lines.push({ message, context }), 10_000, () => now);
  return { log, lines, at: (ms: number) => { now = ms; } };
}

test('the first occurrence is written at once, repeats within the interval are only counted', () => {
  const { log, lines, at } = harness();
  for (let i = 0; i < 50; i++) {
    at(i * 100); // 50 traps, 100 ms apart: 0 .. 4.9 s
    log.report('1:trap', 50, 'batch dropped', { event: 'plugin.batch_dropped', step: 1 });
  }
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.message, 'batch dropped');
});

test('after the interval the next occurrence writes one line with the count since the last line', () => {
  const { log, lines, at } = harness();
  for (let i = 0; i <= 100; i++) {
    at(i * 100); // 101 traps from 0 to 10.0 s
    log.report('1:trap', 50, 'batch dropped', { event: 'plugin.batch_dropped', step: 1 });
  }
  // The first at 0 s written; 1 .. 100 held back; the one at 10.0 s closes the interval: 100 counted.
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.message, 'batch dropped (and 100 more like it in the last 10 s)');
  assert.equal(lines[1]!.context.repeats, 100);
});

test('flush writes what was held back once the interval passed, and forgets a failure that went quiet', () => {
  const { log, lines, at } = harness();
  log.report('k', 50, 'x', E);
  at(1000);
  log.report('k', 50, 'x', E);
  at(5000);
  log.flush();
  assert.equal(lines.length, 1, 'not yet: within the interval');
  at(10_000);
  log.flush();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.context.repeats, 1);
  at(20_000);
  log.flush(); // quiet for a whole interval: forgotten
  at(20_001);
  log.report('k', 50, 'x', E);
  assert.equal(lines.length, 3, 'news again, written at once');
  assert.equal(lines[2]!.message, 'x');
});

test('different failures are counted apart', () => {
  const { log, lines } = harness();
  log.report('1:trap', 50, 'a', E);
  log.report('2:trap', 50, 'b', E);
  log.report('1:trap', 50, 'a', E);
  assert.deepEqual(lines.map((l) => l.message), ['a', 'b']);
});
