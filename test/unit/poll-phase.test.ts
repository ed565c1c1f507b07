/** When each device of a pipeline polls first (poll-phase.ts); expected values by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollPhaseMs } from '../../src/host/poll/poll-phase.js';

test('devices start spread over their interval: 4 devices at 400 ms start 0, 100, 200, 300 ms in', () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => pollPhaseMs(i, 4, 400)), [0, 100, 200, 300]);
});

test('over one second at most, whatever the interval: 4 devices at 1 h start 0, 250, 500, 750 ms in', () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => pollPhaseMs(i, 4, 3_600_000)), [0, 250, 500, 750]);
});

test('one device starts at once; 3 devices at 10 ms round down to whole milliseconds: 0, 3, 6', () => {
  assert.equal(pollPhaseMs(0, 1, 1000), 0);
  assert.deepEqual([0, 1, 2].map((i) => pollPhaseMs(i, 3, 10)), [0, 3, 6]);
});
