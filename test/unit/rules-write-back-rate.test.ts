// A rule's clear writes back what its fire commanded (on_clear; by default a relinquish on a BACnet
// point). With the documented default rate limit (2 writes per minute) a rule that commands two
// points and clears within the minute used both its writes on the fire: the write-backs must still
// go out, or the gateway's commands stay in the devices after the rule cleared. A write-back of a
// command that never went out (the fire's write rate-limited) stays under the limit. The device
// here is the `write` dependency, recording what reaches it (RuleActions is what is tested).
import test from 'node:test';
import assert from 'node:assert/strict';
import { RuleActions } from '../../src/host/rules/rule-actions.js';
import type { ResolvedPipeline } from '../../src/host/config/resolved.js';
import type { Rule, RuleWrite } from '../../src/host/rules/rule-set.js';
import { pino } from 'pino';

function actions(writes: RuleWrite[]) {
  const sent: Array<[string, number]> = [];
  const rule = {
    index: 0, name: 'overheat', origin: '', text: 't > 30', forMs: 0, severity: 'warning', message: '', points: [], interlocks: [],
    actions: { alarmTopic: null, log: 'off', writes, rateLimit: { writes: 2, perMs: 60_000 }, dryRun: false },
  } as unknown as Rule;
  let now = 0;
  const ra = new RuleActions({
    pipeline: { name: 'ahu', rules: { rules: [rule] } } as unknown as ResolvedPipeline,
    gatewayId: 'gw',
    publish: () => {},
    write: (device, point, value) => {
      sent.push([point, value]);
      return Promise.resolve({ device, point, value, rttMs: 1 });
    },
    logger: pino({ level: 'silent' }),
    monotonicMs: () => now,
  });
  return { ra, sent, at: (ms: number) => { now = ms; } };
}

const write = (point: string): RuleWrite => ({ point: 0, pointName: point, device: 0, deviceName: 'ahu-3', value: 1, onClear: 'relinquish', interlock: null });

test('a rule commanding two points under the default 2 per minute relinquishes both when it clears within the minute', async () => {
  const { ra, sent, at } = actions([write('fan.cmd'), write('damper.cmd')]);
  ra.handle([{ rule: 0, kind: 'fire', ts: 0, interlocks: 0 }]);
  at(10_000);
  ra.handle([{ rule: 0, kind: 'clear', ts: 10_000, interlocks: 0 }]);
  await ra.settled();
  assert.deepEqual(sent, [['fan.cmd', 1], ['damper.cmd', 1], ['fan.cmd', NaN], ['damper.cmd', NaN]]);
  assert.deepEqual(ra.status()[0]!.writes, { written: 4, failed: 0, interlocked: 0, 'rate-limited': 0, 'dry-run': 0 });
});

test('a rule flapping within the minute: the command that went out is written back; fires past the limit send nothing, nor do their clears', async () => {
  const { ra, sent, at } = actions([write('fan.cmd')]);
  for (let i = 0; i < 3; i++) {
    at(i * 2000);
    ra.handle([{ rule: 0, kind: 'fire', ts: i * 2000, interlocks: 0 }]);
    at(i * 2000 + 1000);
    ra.handle([{ rule: 0, kind: 'clear', ts: i * 2000 + 1000, interlocks: 0 }]);
  }
  await ra.settled();
  // By hand, limit 2 per minute, a write-back counted but never refused: fire 1 writes (1 in the
  // minute), its clear relinquishes (2); fires 2 and 3 find the minute full and are refused; their clears
  // have nothing of the gateway's to undo and send nothing (no relinquish of a slot it never took).
  assert.deepEqual(sent, [['fan.cmd', 1], ['fan.cmd', NaN]]);
  assert.deepEqual(ra.status()[0]!.writes, { written: 2, failed: 0, interlocked: 0, 'rate-limited': 2, 'dry-run': 0 });
});
