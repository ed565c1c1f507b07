// /readyz and a pipeline whose devices are BACnet devices held by COV subscriptions: such a device is
// never polled (responses stays 0) and answers only its SubscribeCOV renewals, yet it is the live
// source of the pipeline's values. Regression: readiness counted only poll answers, so a pipeline of
// subscribed devices alone was reported as "none of its devices answers".
import test from 'node:test';
import assert from 'node:assert/strict';
import { readiness } from '../../src/host/metrics/health.js';
import type { GatewayStatus } from '../../src/host/gateway.js';

function status(device: Record<string, unknown>): GatewayStatus {
  return { pipelines: [{ name: 'hvac', state: 'running', devices: [{ device: 'ahu1', connected: true, quarantined: false, responses: 0, ...device }] }], uplinks: [] } as unknown as GatewayStatus;
}

test('a subscribed COV device makes its pipeline ready without a poll answer', () => {
  assert.deepEqual(readiness(status({ cov: { state: 'subscribed', subscriptions: 2, rounds: 1, refusedRounds: 0 } })).problems, []);
});

test('a device that refused COV and never answered a poll does not', () => {
  assert.deepEqual(readiness(status({ cov: { state: 'polling', reason: 'no answer', subscriptions: 2, rounds: 0, refusedRounds: 1 } })).problems, ['pipeline hvac: none of its 1 device(s) answers']);
  assert.deepEqual(readiness(status({})).problems, ['pipeline hvac: none of its 1 device(s) answers']);
});
