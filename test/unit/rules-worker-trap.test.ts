/**
 * Hostile: a rule set whose compiled module traps in the pipeline worker (here: one batch makes more
 * events than the module's capped memory can hold, so its memory.grow is refused and it traps, as
 * the ABI asks). The batch's events are lost and said once (rule.eval_failed), the module starts
 * again as nothing seen, and the next batch is evaluated. Run on WorkerRules itself, as the worker
 * runs it (no thread: the trap is in the module, which a worker would only wrap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleSet } from '../../src/host/rules/compiled-rules.js';
import { WorkerRules } from '../../src/host/rules/worker-rules.js';
import { anchorTimeline, processClock } from '../../src/host/rules/rule-timeline.js';
import { RepeatLog } from '../../src/host/pipeline/repeat-log.js';
import type { LogContext } from '../../src/host/log-events.js';
import { POINTS, ruleSet } from './rules-fixture.js';

/** `n` samples of plc1's temp, alternating 99 and 0: every rule that reads it fires or clears on each. */
function flipping(n: number, from: number): Uint8Array {
  const batch = new Uint8Array(8 + 24 * n);
  const view = new DataView(batch.buffer);
  view.setUint32(0, n, true);
  for (let i = 0; i < n; i++) {
    view.setFloat64(8 + 24 * i, from + i, true);
    view.setFloat64(16 + 24 * i, i % 2 === 0 ? 99 : 0, true);
    view.setUint32(24 + 24 * i, POINTS.temp, true);
  }
  return batch;
}

test('a module that traps on a batch loses that batch\'s events, says so once, and evaluates the next one afresh', async () => {
  const set = await ruleSet(Array.from({ length: 100 }, (_, i) => `  - { name: r${i}, when: "plc1:boiler.temp > ${50 + (i % 40)}" }`));
  // The module starts with its state and 64 KiB; capped there, it cannot grow for its output.
  const plugin = compileRuleSet(set, 'p1', 2 * 65536);
  const lines: Array<{ level: number; context: LogContext }> = [];
  const rules = new WorkerRules(plugin, 'p1', new RepeatLog((level, _message, context) => lines.push({ level, context })), { anchor: anchorTimeline(processClock), clock: processClock });
  // 256 samples × 100 rules, each a fire or a clear: 25,600 events of 24 bytes, 600 KiB.
  rules.samples(flipping(256, 0));
  assert.equal(rules.traps, 1);
  assert.deepEqual(rules.take(), []);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.context.event, 'rule.eval_failed');
  assert.equal(lines[0]!.context.code, 'WG_ERR_PLUGIN_TRAP');
  // A small batch fits: 2 samples, 100 fires then 100 clears, from a fresh state.
  rules.samples(flipping(2, 1000));
  const events = rules.take();
  assert.equal(events.length, 200);
  assert.deepEqual([events[0]!.kind, events[199]!.kind], ['fire', 'clear']);
});
