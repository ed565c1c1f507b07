/**
 * The rollout tool's plan and health verdict (src/host/fleet/fleet-rollout.ts), on hand-made inputs:
 * which gateways each stage takes, and when a probe's status shows a gateway unhealthy with the new
 * version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stagesOf, unhealthy, type RolloutPlan } from '../../src/host/fleet/fleet-rollout.js';
import type { FleetStatus } from '../../src/host/fleet/fleet-status.js';
import { parseWaves } from '../../src/host/cli/fleet.js';

const ten = Array.from({ length: 10 }, (_, i) => `g${i}`);
const plan = (over: Partial<RolloutPlan>): RolloutPlan => ({ gateways: ten, canary: 1, waves: [], watchMs: 0, statusTimeoutMs: 1, maxTraps: 0, ...over });
const sizes = (p: RolloutPlan) => stagesOf(p).map((s) => [s.name, s.gateways.length]);

test('the canary takes the first gateways named, then waves of the sizes given, the last repeating', () => {
  assert.deepEqual(stagesOf(plan({ canary: 2 })).map((s) => s.gateways), [['g0', 'g1'], ten.slice(2)]);
  assert.deepEqual(sizes(plan({ waves: [{ count: 2 }, { count: 3 }] })), [['canary', 1], ['wave 1', 2], ['wave 2', 3], ['wave 3', 3], ['wave 4', 1]]);
  // 25 % of 10 gateways is 2.5: rounded up to 3.
  assert.deepEqual(sizes(plan({ waves: [{ percent: 25 }] })), [['canary', 1], ['wave 1', 3], ['wave 2', 3], ['wave 3', 3]]);
  assert.deepEqual(sizes(plan({ gateways: ['only'] })), [['canary', 1]]);
  assert.deepEqual(parseWaves('2,10,25%'), [{ count: 2 }, { count: 10 }, { percent: 25 }]);
  assert.throws(() => parseWaves('0'), /--waves takes sizes/);
  assert.throws(() => parseWaves('150%'), /--waves takes sizes/);
});

function probe(pipelines: FleetStatus['pipelines']): FleetStatus {
  const running: Record<string, string[]> = {};
  for (const p of pipelines) for (const s of p.steps) (running[s.plugin] ??= []).includes(s.version) || running[s.plugin]!.push(s.version);
  return { gateway: 'g0', at: '', command: { id: 'p', op: 'status' }, outcome: 'status', running, pipelines, counters: { received: 0, applied: 0, refused: 0, duplicates: 0, dropped: 0 } };
}
const pkg = { plugin: 'outlier', version: '0.3.0', sha256: '', bytes: new Uint8Array() };
const step = (plugin: string, version: string, traps = 0) => ({ plugin, version, traps });

test('healthy: the new version is all that runs of the plugin, its pipelines run, no traps past the limit', () => {
  assert.equal(unhealthy(probe([{ name: 'a', state: 'running', steps: [step('modbus', '0.1.0'), step('outlier', '0.3.0')] }, { name: 'b', state: 'failed', steps: [step('json', '0.1.0')] }]), pkg, 0), undefined, 'a failed pipeline that does not run the plugin is not its doing');
  assert.equal(unhealthy(probe([{ name: 'a', state: 'running', steps: [step('outlier', '0.3.0', 2)] }]), pkg, 2), undefined);
});

test('unhealthy: another version still runs, a pipeline running it is not running, or it trapped', () => {
  assert.equal(unhealthy(probe([{ name: 'a', state: 'running', steps: [step('outlier', '0.3.0')] }, { name: 'b', state: 'running', steps: [step('outlier', '0.2.0')] }]), pkg, 0), 'outlier runs 0.3.0, 0.2.0, not only 0.3.0');
  assert.equal(unhealthy(probe([{ name: 'a', state: 'restarting', steps: [step('outlier', '0.3.0')] }]), pkg, 0), 'pipeline a, which runs outlier, is restarting');
  assert.equal(unhealthy(probe([{ name: 'a', state: 'running', steps: [step('outlier', '0.3.0', 1), step('outlier', '0.3.0', 2)] }]), pkg, 2), 'outlier 0.3.0 trapped 3 times in pipeline a (at most 2 allowed)');
});
