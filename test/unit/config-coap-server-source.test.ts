/**
 * Source kind coap_server through the loader: its defaults as docs/config.md gives them, resources
 * mapped to devices and points, and what it refuses at its position (file, line, column, setting;
 * line N is element N-1 of the array).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem, type ResolvedPipeline } from '../../src/host/config/index.js';
import type { ResolvedPushPoint } from '../../src/host/config/resolved.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';
import { pipelineContext } from '../../src/host/pipeline/settings-document.js';

async function load(lines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
  } finally {
    await ws.remove();
  }
}

async function resolved(lines: string[]): Promise<ResolvedPipeline> {
  const result = await load(lines);
  if (!result.ok) assert.fail(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  return result.config.pipelines[0]!;
}

async function problems(lines: string[]): Promise<ConfigProblem[]> {
  const result = await load(lines);
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

const TAIL = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud', '  topic: "push/{device}/{point}"'];

test('a coap_server resolves to one push link with the documented defaults, its resources mapped to devices and points', async () => {
  const pipeline = await resolved([
    'pipeline: { name: rooms }', // 1
    'source:', // 2
    '  coap_server:', // 3
    '    devices:', // 4
    '      - name: room-1', // 5
    '        resource: /rooms/1', // 6
    '        points:', // 7
    '          - { name: temp, unit: degC, resource: rooms/1/temp }', // 8
    '          - { name: hum }', // 9
    '      - name: meter', // 10
    '        points: [ { name: kwh, resource: m/kwh } ]', // 11
    ...TAIL,
  ]);
  const link = pipeline.source.links[0]!;
  assert.equal(link.transport, 'push');
  if (link.transport !== 'push') return;
  assert.deepEqual([link.kind, link.endpoint, link.limits, link.maxBodyBytes], ['coap_server', 'udp 0.0.0.0:5683', { ratePerSecond: 100, burst: 200, maxWaiting: 256 }, 1024]);
  assert.deepEqual(link.coap, {
    bindAddress: '0.0.0.0', port: 5683, mediaTypes: ['text/plain', 'application/json', 'application/cbor'],
    maxBlockTransfers: 16, blockTimeoutMs: 30_000, maxCachedMessages: 1024,
    resources: [{ path: 'rooms/1', device: 0, point: null }, { path: 'rooms/1/temp', device: 0, point: 0 }, { path: 'm/kwh', device: 1, point: 2 }],
  });
  const points = pipeline.points as ResolvedPushPoint[];
  assert.deepEqual(points.map((p) => [p.protocol, p.name, p.device, p.resource, p.unit]), [
    ['push', 'temp', 0, 'rooms/1/temp', 'degC'], ['push', 'hum', 0, null, ''], ['push', 'kwh', 1, 'm/kwh', ''],
  ]);
  const context = pipelineContext(pipeline);
  assert.deepEqual(context.devices[0], { index: 0, name: 'room-1', kind: 'coap_server', link: 'coap_server', framing: 'push', endpoint: 'udp 0.0.0.0:5683', unit_id: 0, interval_ms: 0, timeout_ms: 0 });
  assert.deepEqual(context.points[1], { id: 1, name: 'hum', device: 0, unit: '', description: '', access: 'read' });
});

test('coap_server refuses a resource used twice and a point no resource reaches, each at its setting', async () => {
  const lines = [
    'pipeline: { name: rooms }', // 1
    'source:', // 2
    '  coap_server:', // 3
    '    devices:', // 4
    '      - { name: a, resource: r/1, points: [ { name: t } ] }', // 5
    '      - { name: b, points: [ { name: t, resource: /r/1 } ] }', // 6
    '      - { name: c, points: [ { name: t } ] }', // 7
    ...TAIL,
  ];
  const found = await problems(lines);
  // Columns are 1-based: where the value of the setting starts on its line.
  assert.deepEqual(found.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path}`), [
    `p.yaml:6:${lines[5]!.indexOf('/r/1') + 1} source.coap_server.devices[1].points[0].resource`,
    `p.yaml:7:${lines[6]!.indexOf('{ name: t') + 1} source.coap_server.devices[2].points[0]`,
  ]);
  assert.match(found[0]!.message, /resource r\/1 is already .*a.*one path maps to one device or point/);
  assert.match(found[1]!.message, /point t has no resource, and device c has none either: no request can reach it/);
});

test('coap_server refuses an unknown media type, a query in a resource, and a rate of 0, naming the setting', async () => {
  const found = await problems([
    'pipeline: { name: rooms }', // 1
    'source:', // 2
    '  coap_server:', // 3
    '    rate: 0', // 4
    '    media_types: [application/json, application/jsn]', // 5
    '    devices:', // 6
    '      - { name: a, resource: "r?x=1", points: [ { name: t } ] }', // 7
    ...TAIL,
  ]);
  assert.deepEqual(found.map((p) => `${p.line} ${p.path}`).sort(), ['4 source.coap_server.rate', '5 source.coap_server.media_types[1]', '7 source.coap_server.devices[0].resource']);
  assert.match(found.find((p) => p.line === 5)!.message, /unknown media type "application\/jsn": one of text\/plain, .*application\/cbor/);
});
