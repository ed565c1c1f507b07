/**
 * The gateway file's `fleet:` block through the loader (src/host/fleet/fleet-settings.ts): no fleet
 * client without it, the topics and client id it resolves to, and each refusal at its line and
 * column (line N is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function gateway(fleetLines: string[]): string[] {
  return [
    'gateway:', // 1
    '  id: gw1', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud: { mqtt: { url: "mqtt://127.0.0.1:1883", client_id: cloud-gw1 } }', // 5
    '  near: { coap: { url: "coap://127.0.0.1:5683" } }', // 6
    'pipelines: [ p.yaml ]', // 7
    ...fleetLines, // 8...
  ];
}

async function load(fleetLines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...pipelineLines(), '  topic: "plant/{device}/{point}"']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway(fleetLines)));
  } finally {
    await ws.remove();
  }
}

async function problems(fleetLines: string[]): Promise<string[]> {
  const result = await load(fleetLines);
  assert.equal(result.ok, false, 'refused');
  return result.ok ? [] : result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}${p.code === 'WG_ERR_CONFIG_INVALID' ? '' : ` [${p.code}]`}`);
}

test('no fleet client unless the gateway file asks', async () => {
  const result = await load([]);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.equal(result.config.fleet, null);
});

test('the topics, client id and limits a fleet block resolves to', async () => {
  const result = await load(['fleet:', '  uplink: cloud', '  groups: [ line-3 ]', '  max_package: 64KiB', '  fetch_timeout: 1.5s']);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.config.fleet, {
    uplink: 'cloud',
    clientId: 'cloud-gw1-fleet',
    commandTopics: ['wasmgate/fleet/gateway/gw1/command', 'wasmgate/fleet/group/line-3/command'],
    statusTopic: 'wasmgate/fleet/gateway/gw1/status',
    maxPackageBytes: 65536,
    fetchTimeoutMs: 1500,
    queueLimit: 8,
  });
});

test('an uplink that is not an MQTT uplink of the file is refused at its line', async () => {
  assert.deepEqual(await problems(['fleet:', '  uplink: near']), ['9:11 fleet.uplink: names uplink near, a coap uplink: fleet commands come over MQTT (its MQTT uplinks: cloud)']);
  assert.deepEqual(await problems(['fleet:', '  uplink: far']), ['9:11 fleet.uplink: names no uplink of this file (its MQTT uplinks: cloud)']);
});

test('a topic prefix with wildcards or slashes at its ends, an unknown key, a bad size or duration are each refused where written', async () => {
  assert.deepEqual(await problems(['fleet:', '  uplink: cloud', '  topic_prefix: "site/+/fleet"']), ['10:17 fleet.topic_prefix: is the start of topics to subscribe and publish to: no wildcards # or +']);
  assert.deepEqual(await problems(['fleet:', '  uplink: cloud', '  topic_prefix: "site/"']), ['10:17 fleet.topic_prefix: must not begin or end with "/" (the levels are added with their own "/")']);
  const unknown = await problems(['fleet:', '  uplink: cloud', '  queue_size: 3']);
  assert.equal(unknown.length, 1);
  assert.match(unknown[0]!, /^10:3 fleet\.queue_size: /);
  const size = await problems(['fleet:', '  uplink: cloud', '  max_package: 1MB']);
  assert.match(size[0]!, /^10:16 fleet\.max_package: must be a size such as 256KiB/);
  const zero = await problems(['fleet:', '  uplink: cloud', '  fetch_timeout: 0s']);
  assert.deepEqual(zero, ['10:18 fleet.fetch_timeout: must be longer than 0ms']);
});
