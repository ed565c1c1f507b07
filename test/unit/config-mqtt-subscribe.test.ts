/**
 * Source kind mqtt_subscribe through the loader: what it resolves to (its defaults as docs/config.md
 * gives them), the topic routes it makes, and what it refuses at its position (line N is element N-1
 * of the array), the subscription loop (WG_ERR_CONFIG_SUBSCRIPTION_LOOP) included: the gateway file's
 * uplink `cloud` is mqtt://127.0.0.1:1883 (config-workspace.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig, type ConfigProblem, type ResolvedPipeline } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';
import { TopicRoutes } from '../../src/host/sources/mqtt-topic-routes.js';

async function load(lines: string[], gateway: string[] = gatewayLines()) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    await ws.write('secret', ['s3cret']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway));
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

function tail(topic = 'out/{gateway}/{device}/{point}'): string[] {
  return ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud', `  topic: "${topic}"`];
}

/** Five lines: devices boiler1 (temp, pressure) and meter7 (power, energy). */
const DEVICES = [
  '    devices:',
  '      - name: boiler1',
  '        points: [{ name: temp, unit: degC }, { name: pressure }]',
  '      - name: meter7',
  '        points: [{ name: power }, { name: energy }]',
];

test('an mqtt_subscribe source resolves to one push link with its broker, its filters and the documented defaults', async () => {
  const pipeline = await resolved([
    'pipeline: { name: devices }', // 1
    'source:', // 2
    '  mqtt_subscribe:', // 3
    '    broker:', // 4
    '      url: mqtt://127.0.0.1:1883', // 5
    '      client_id: gw1-devices', // 6
    '      username: gw', // 7
    '      password_file: secret', // 8
    '    topics:', // 9
    '      - pattern: plant/{device}/{point}', // 10
    '      - { pattern: "meters/{device}/state", qos: 0 }', // 11
    '      - { pattern: legacy/hall-sensor, device: hall, point: temp }', // 12
    ...DEVICES, // 13-17
    '      - name: hall',
    '        points: [{ name: temp }]',
    ...tail(),
  ]);
  const link = pipeline.source.links[0]!;
  assert.equal(link.transport, 'push');
  assert.equal(link.kind, 'mqtt_subscribe');
  if (link.transport !== 'push' || !link.mqtt) return assert.fail('not an mqtt_subscribe push link');
  assert.deepEqual(link.limits, { ratePerSecond: 1000, burst: 200, maxWaiting: 1 });
  assert.equal(link.maxBodyBytes, 16 * 1024);
  const { broker, topics } = link.mqtt;
  assert.deepEqual(
    [broker.url, broker.clientId, broker.username, broker.password, broker.keepaliveMs, broker.reconnect, broker.cleanSession, broker.sessionExpiryMs, broker.tls, broker.protocol],
    ['mqtt://127.0.0.1:1883', 'gw1-devices', 'gw', 's3cret', 30_000, { minMs: 1000, maxMs: 30_000 }, true, null, null, 'auto'],
  );
  assert.deepEqual(topics.map((t) => [t.pattern, t.filter, t.qos, t.device, t.point]), [
    ['plant/{device}/{point}', 'plant/+/+', 1, null, null],
    ['meters/{device}/state', 'meters/+/state', 0, null, null],
    ['legacy/hall-sensor', 'legacy/hall-sensor', 1, 2, 4],
  ]);
  assert.deepEqual(pipeline.points.map((p) => [p.id, p.device, p.name]), [[0, 0, 'temp'], [1, 0, 'pressure'], [2, 1, 'power'], [3, 1, 'energy'], [4, 2, 'temp']]);

  // The routes the listener takes each topic by: the first pattern that fits decides.
  const routes = new TopicRoutes(topics, pipeline.source.devices);
  assert.deepEqual(routes.route('plant/boiler1/pressure'), { ok: true, route: { device: 0, point: 1 }, pattern: 0 });
  assert.deepEqual(routes.route('meters/meter7/state'), { ok: true, route: { device: 1 }, pattern: 1 });
  assert.deepEqual(routes.route('legacy/hall-sensor'), { ok: true, route: { device: 2, point: 4 }, pattern: 2 });
  const refused = (topic: string) => {
    const r = routes.route(topic);
    assert.ok(!r.ok, `${topic} should name nothing`);
    return r.detail;
  };
  assert.match(refused('plant/boiler9/temp'), /device "boiler9", which this source does not have/);
  assert.match(refused('plant/meter7/temp'), /point "temp" of device meter7, which it does not have/);
  assert.match(refused('plant/boiler1'), /no topic pattern of this source fits it/);
  assert.match(refused(`plant/${'x'.repeat(70_000)}/temp`), /device "x{120}…"/);
});

test('mqtt_subscribe refuses what cannot be subscribed or names nothing, each at its setting', async () => {
  const found = await problems([
    'pipeline: { name: devices }', // 1
    'source:', // 2
    '  mqtt_subscribe:', // 3
    '    broker: { url: mqtt://127.0.0.1:1884, client_id: gw1-devices, password: x }', // 4
    '    max_body: 100KiB', // 5
    '    topics:', // 6
    '      - pattern: plant/{device}-x/{point}', // 7
    '      - { pattern: "plant/{device}/{point}", device: boiler1 }', // 8
    '      - { pattern: "plant/{device}/+" }', // 9
    '      - { pattern: hall/temp }', // 10
    '      - { pattern: hall/x, device: boiler9 }', // 11
    ...DEVICES,
    ...tail(),
  ]);
  const at = (line: number) => found.filter((p) => p.line === line).map((p) => `${p.path} ${p.code}`);
  assert.deepEqual(at(4), ['source.mqtt_subscribe.broker.password WG_ERR_CONFIG_CONFLICT']);
  assert.deepEqual(at(5), ['source.mqtt_subscribe.max_body WG_ERR_CONFIG_INVALID']);
  assert.deepEqual(at(7), ['source.mqtt_subscribe.topics[0].pattern WG_ERR_CONFIG_INVALID']);
  assert.deepEqual(at(8), ['source.mqtt_subscribe.topics[1].device WG_ERR_CONFIG_CONFLICT']);
  assert.deepEqual(at(9), ['source.mqtt_subscribe.topics[2].pattern WG_ERR_CONFIG_CONFLICT']);
  assert.deepEqual(at(10), ['source.mqtt_subscribe.topics[3].pattern WG_ERR_CONFIG_INVALID']);
  assert.deepEqual(at(11), ['source.mqtt_subscribe.topics[4].device WG_ERR_CONFIG_INVALID']);
  assert.match(found.find((p) => p.line === 9)!.message, /asks the broker for plant\/\+\/\+, as .*topics\[1\]\.pattern \(line 8\) does/);
});

test('a pattern that catches what the gateway publishes to the same broker is a loop: refused at its position with WG_ERR_CONFIG_SUBSCRIPTION_LOOP', async () => {
  const lines = (pattern: string, url = 'mqtt://localhost:1883', publish = 'out/{gateway}/{device}/{point}') => [
    'pipeline: { name: devices }', // 1
    'source:', // 2
    '  mqtt_subscribe:', // 3
    `    broker: { url: "${url}", client_id: gw1-devices }`, // 4
    '    topics:', // 5
    `      - pattern: "${pattern}"`, // 6
    '      - pattern: plant/{device}/{point}', // 7
    '    devices:', // 8
    '      - name: boiler1', // 9
    '        points: [{ name: temp }]', // 10
    ...tail(publish),
  ];
  // out/+/# catches out/gw1/boiler1/temp, which this very pipeline publishes to uplink cloud at 127.0.0.1:1883.
  const loop = await problems(lines('out/{device}/#'));
  assert.equal(loop.length, 1, JSON.stringify(loop));
  assert.deepEqual([loop[0]!.line, loop[0]!.column, loop[0]!.path, loop[0]!.code], [6, 18, 'source.mqtt_subscribe.topics[0].pattern', 'WG_ERR_CONFIG_SUBSCRIPTION_LOOP']);
  assert.match(loop[0]!.message, /out\/\+\/# catches out\/gw1\/boiler1\/temp, which pipeline devices \(publish\.topic\) publishes/);
  // The uplink's status topic (wasmgate/{gateway}/status by default) is the gateway's own too.
  const status = await problems(lines('wasmgate/{device}/status'));
  assert.match(status[0]!.message, /catches wasmgate\/gw1\/status, which uplink cloud \(status\.topic\) publishes/);
  // A pattern whose levels cannot reach any topic published is no loop, nor is the same filter on another broker.
  assert.equal((await load(lines('out/{device}/{point}'))).ok, true);
  assert.equal((await load(lines('out/{device}/#', 'mqtt://127.0.0.1:1884'))).ok, true);
  // With {device} and {point} in the filter as +: plant/{device}/{point} under a publish topic plant/{device}/{point} is one.
  const same = await problems(lines('site/{device}/#', 'mqtt://[::1]:1883', 'plant/{device}/{point}'));
  assert.equal(same.length, 1);
  assert.equal(same[0]!.path, 'source.mqtt_subscribe.topics[1].pattern');
  assert.equal(same[0]!.line, 7);
});

test('hostile8b: a source whose client id the uplink already uses on the same broker is refused at its client_id (WG_ERR_CONFIG_CONFLICT): the broker would close one for the other, for ever', async () => {
  const lines = (clientId: string, url = 'mqtt://localhost:1883') => [
    'pipeline: { name: devices }', // 1
    'source:', // 2
    '  mqtt_subscribe:', // 3
    '    broker:', // 4
    `      url: "${url}"`, // 5
    `      client_id: ${clientId}`, // 6
    '    topics:', // 7
    '      - pattern: plant/{device}/{point}', // 8
    '    devices:', // 9
    '      - name: boiler1', // 10
    '        points: [{ name: temp }]', // 11
    ...tail(),
  ];
  // The uplink cloud (mqtt://127.0.0.1:1883) writes no client_id: it connects as wasmgate-gw1 (defaultClientId).
  const found = await problems(lines('wasmgate-gw1'));
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.deepEqual([found[0]!.line, found[0]!.path, found[0]!.code], [6, 'source.mqtt_subscribe.broker.client_id', 'WG_ERR_CONFIG_CONFLICT']);
  assert.match(found[0]!.message, /client id wasmgate-gw1 is the one uplink cloud connects to/);
  // Another broker, or another client id on the same one, is fine.
  assert.equal((await load(lines('wasmgate-gw1', 'mqtt://127.0.0.1:1884'))).ok, true);
  assert.equal((await load(lines('wasmgate-gw1-devices'))).ok, true);
});

test('hostile8b: two pipelines subscribing with one client id on one broker: the second is refused at its client_id', async () => {
  const pipeline = (name: string) => [
    `pipeline: { name: ${name} }`, // 1
    'source:', // 2
    '  mqtt_subscribe:', // 3
    '    broker:', // 4
    '      url: mqtt://127.0.0.1:1883', // 5
    '      client_id: gw1-devices', // 6
    '    topics:', // 7
    `      - pattern: ${name}/{device}/{point}`, // 8
    '    devices:', // 9
    '      - name: boiler1', // 10
    '        points: [{ name: temp }]', // 11
    ...tail(`out/${name}/{device}/{point}`),
  ];
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('a.yaml', pipeline('a'));
    await ws.write('b.yaml', pipeline('b'));
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['a.yaml', 'b.yaml'])));
    assert.equal(result.ok, false);
    const found = result.ok ? [] : result.problems;
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0]!.file, /b\.yaml$/);
    assert.deepEqual([found[0]!.line, found[0]!.code], [6, 'WG_ERR_CONFIG_CONFLICT']);
    assert.match(found[0]!.message, /the mqtt_subscribe source of pipeline a connects/);
  } finally {
    await ws.remove();
  }
});
