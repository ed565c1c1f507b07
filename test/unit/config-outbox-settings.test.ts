/**
 * An uplink's `outbox:` settings through the loader (src/host/uplinks/outbox-settings.ts): the
 * defaults docs/config.md gives, values as written, and each refusal at its line and column (line N
 * is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function gateway(outboxLines: string[]): string[] {
  return [
    'gateway:', // 1
    '  id: gw-7', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud:', // 5
    '    mqtt:', // 6
    '      url: mqtt://127.0.0.1:1883', // 7
    ...outboxLines, // 8...
    'pipelines: [ p.yaml ]',
  ];
}

async function load(outboxLines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...pipelineLines(), '  topic: "plant/{device}/{point}"']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway(outboxLines)));
  } finally {
    await ws.remove();
  }
}

async function problem(outboxLines: string[]): Promise<string> {
  const result = await load(outboxLines);
  assert.equal(result.ok, false, 'refused');
  const [p] = result.ok ? [] : result.problems;
  return `${p!.line}:${p!.column} ${p!.path}: ${p!.message}`;
}

test('without an outbox block an uplink gets the defaults config.md gives', async () => {
  const result = await load([]);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
  const uplink = result.config.uplinks[0]!;
  // 256 MiB = 268 435 456 B; 168 h = 604 800 000 ms; 16 MiB = 16 777 216 B.
  assert.deepEqual(uplink.outbox, {
    maxBytes: 268_435_456, maxAgeMs: 604_800_000, memoryMaxBytes: 16_777_216, replay: { mode: 'in_order' }, mark: 'auto',
    reportTopic: 'wasmgate/gw-7/outbox/cloud',
  });
});

test('values as written: sizes, age, live_first with its rate, mark, a report topic with both placeholders', async () => {
  const result = await load([
    '      outbox:',
    '        max_bytes: 1GiB',
    '        max_age: 72h',
    '        memory_max_bytes: 4MiB',
    '        replay: live_first',
    '        replay_rate: 250',
    '        mark: fields',
    '        report_topic: "site/{gateway}/buffer/{uplink}"',
  ]);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
  assert.deepEqual(result.config.uplinks[0]!.outbox, {
    maxBytes: 1_073_741_824, maxAgeMs: 259_200_000, memoryMaxBytes: 4_194_304, replay: { mode: 'live_first', ratePerS: 250 }, mark: 'fields',
    reportTopic: 'site/gw-7/buffer/cloud',
  });
});

test('report_topic: false turns the drop report off', async () => {
  const result = await load(['      outbox: { report_topic: false }']);
  assert.ok(result.ok);
  assert.equal(result.config.uplinks[0]!.outbox.reportTopic, null);
});

test('refusals name the setting at its position', async () => {
  assert.match(await problem(['      outbox:', '        report_topic: "x/{device}"']), /^9:23 uplinks\.cloud\.mqtt\.outbox\.report_topic: .*only \{gateway\} and \{uplink\}/);
  assert.match(await problem(['      outbox:', '        report_topic: "x/#"']), /^9:23 uplinks\.cloud\.mqtt\.outbox\.report_topic: .*no wildcards/);
  assert.match(await problem(['      outbox:', '        report_topic: true']), /^9:23 uplinks\.cloud\.mqtt\.outbox\.report_topic: /);
  assert.match(await problem(['      outbox:', '        replay_rate: 50']), /^9:22 uplinks\.cloud\.mqtt\.outbox\.replay_rate: .*only with replay: live_first/);
  assert.match(await problem(['      outbox:', '        max_bytes: 100B']), /^9:20 uplinks\.cloud\.mqtt\.outbox\.max_bytes: .*at least 1KiB/);
  assert.match(await problem(['      outbox:', '        max_age: 0s']), /^9:18 uplinks\.cloud\.mqtt\.outbox\.max_age: /);
  assert.match(await problem(['      outbox:', '        mark: payload']), /^9:15 uplinks\.cloud\.mqtt\.outbox\.mark: /);
  assert.match(await problem(['      outbox:', '        replay: live_first', '        replay_rate: 0']), /^10:22 uplinks\.cloud\.mqtt\.outbox\.replay_rate: /);
});

test('refused too: a memory cap with no room for a message, an unmatched brace, a report on the status topic', async () => {
  // memory_max_bytes bounds the outbox while the disk is full: 100 B would drop every reading then.
  assert.match(await problem(['      outbox:', '        memory_max_bytes: 100B']), /^9:27 uplinks\.cloud\.mqtt\.outbox\.memory_max_bytes: .*at least 1KiB/);
  // "{gateway" is no placeholder: the report would go to the literal topic x/{gateway.
  assert.match(await problem(['      outbox:', '        report_topic: "x/{gateway"']), /^9:23 uplinks\.cloud\.mqtt\.outbox\.report_topic: .*unmatched/);
  assert.match(await problem(['      status: { topic: "x/{gateway}}" }']), /^8:24 uplinks\.cloud\.mqtt\.status\.topic: .*unmatched/);
  // Retained online/offline and the drop report's JSON on one topic: a consumer of either reads the other's.
  assert.match(
    await problem(['      status: { topic: "site/{gateway}/state" }', '      outbox: { report_topic: "site/{gateway}/state" }']),
    /^9:31 uplinks\.cloud\.mqtt\.outbox\.report_topic: .*status/,
  );
  assert.match(await problem(['      status: { topic: "wasmgate/{gateway}/outbox/{uplink}" }']), /^8:24 uplinks\.cloud\.mqtt\.status\.topic: .*status and the drop report on one topic/);
  // The defaults of both are apart, and written ones that resolve apart are fine.
  const apart = await load(['      status: { topic: "site/{gateway}/state" }', '      outbox: { report_topic: "site/{gateway}/drops" }']);
  assert.ok(apart.ok, apart.ok ? '' : apart.problems.map((p) => p.message).join('\n'));
});

test('an empty outbox or status block (`~`) is refused at its line, not a TypeError from the checks', async () => {
  // The schema refused these, and the checks then read settings of the null block: validate and run
  // ended in a stack trace instead of the problem.
  assert.match(await problem(['      outbox: ~']), /^8:15 uplinks\.cloud\.mqtt\.outbox: must be a map of settings/);
  assert.match(await problem(['      status: ~']), /^8:15 uplinks\.cloud\.mqtt\.status: must be a map of settings/);
  assert.match(await problem(['      protocol: 3.1.1', '      outbox: ~']), /^9:15 uplinks\.cloud\.mqtt\.outbox: must be a map of settings/);
});
