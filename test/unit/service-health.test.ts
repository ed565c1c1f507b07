/**
 * When the daemon stops feeding systemd's watchdog (src/host/service/, docs/service.md), on pipeline
 * statuses written here, and how often it pings for a given WATCHDOG_USEC (sd_watchdog_enabled(3):
 * WATCHDOG_USEC is the whole period; pinging at half of it is what the man page advises).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineHealth } from '../../src/host/service/pipeline-health.js';
import { watchdogIntervalMs } from '../../src/host/service/service-lifecycle.js';
import type { PipelineState } from '../../src/host/pipeline/pipeline-runner.js';

function status(state: PipelineState, batchesDone: number, workerRestarts = 0, reason?: string) {
  return { name: 'plant', state, batchesDone, workerRestarts, ...(reason ? { reason } : {}) };
}

test('a running pipeline that completes batches is healthy; one that completes none and is never restarted too (a quiet bus, back-pressure)', () => {
  const health = new PipelineHealth(1000);
  assert.deepEqual(health.check([status('running', 1)], 0), { healthy: true, reasons: [] });
  assert.equal(health.check([status('running', 9)], 5000).healthy, true);
  assert.equal(health.check([status('running', 9)], 60_000).healthy, true);
});

test('a failed pipeline is unhealthy at once, with its reason', () => {
  const verdict = new PipelineHealth(1000).check([status('failed', 0, 0, 'WG_ERR_PLUGIN_CONFIGURE: no')], 0);
  assert.deepEqual(verdict, { healthy: false, reasons: ['pipeline plant failed: WG_ERR_PLUGIN_CONFIGURE: no'] });
});

test('a pipeline restarted again and again with no batch done is stuck once the grace has passed, and healthy again after a batch', () => {
  const health = new PipelineHealth(1000);
  assert.equal(health.check([status('running', 4, 0)], 0).healthy, true);
  assert.equal(health.check([status('running', 4, 1)], 100).healthy, true, 'one restart is the gateway containing a hung batch');
  assert.equal(health.check([status('running', 4, 3)], 1100).healthy, true, 'not longer than the grace yet');
  const stuck = health.check([status('running', 4, 5, 'plugin hang timed out in process')], 1101);
  assert.equal(stuck.healthy, false);
  assert.match(stuck.reasons[0]!, /^pipeline plant is stuck: 5 worker restart\(s\) and no batch done in 1001 ms: plugin hang timed out/);
  assert.equal(health.check([status('running', 5, 5)], 1200).healthy, true, 'a completed batch ends it');
});

test('a pipeline out of running for longer than the grace is unhealthy, whether or not it completes batches in between', () => {
  const health = new PipelineHealth(1000);
  assert.equal(health.check([status('restarting', 1)], 0).healthy, true);
  assert.equal(health.check([status('restarting', 1)], 1000).healthy, true);
  const verdict = health.check([status('restarting', 1, 0, 'worker exited with code 1')], 1001);
  assert.deepEqual(verdict.reasons, ['pipeline plant has been restarting for 1001 ms: worker exited with code 1']);
  assert.equal(health.check([status('running', 1)], 1002).healthy, true);
});

test('the pings come every WATCHDOG_USEC / 2, only when the watchdog is meant for this process', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '42' }, 42), 200);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '41' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '' }, 42), 200, 'an empty WATCHDOG_PID names no other process');
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42), undefined);
});
