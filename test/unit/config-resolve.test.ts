/**
 * The resolved configuration: every default applied, units converted, paths absolute, and frozen all
 * the way down. Expected values are the documented defaults (docs/config.md) converted by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig, type ResolvedGateway } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, REPO_ROOT, gatewayLines, pipelineLines } from './config-workspace.js';
import { modbusPoints } from '../support/modbus-points.js';

async function loadValid(ws: ConfigWorkspace, gateway: string[], pipeline: string[]): Promise<ResolvedGateway> {
  await ws.write('p.yaml', pipeline);
  const result = await loadGatewayConfig(await ws.write('gw.yaml', gateway));
  if (!result.ok) assert.fail(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  return result.config;
}

test('a minimal configuration resolves with every default applied, in ms and bytes', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const config = await loadValid(ws, gatewayLines(), pipelineLines());
    assert.equal(config.file, ws.path('gw.yaml'));
    assert.equal(config.id, 'gw1');
    assert.equal(config.dataDir, ws.path('data'));
    assert.deepEqual(config.log, { level: 'info', format: 'json' });
    assert.deepEqual(config.pluginDirs, [FIXTURE_PLUGINS]);
    assert.deepEqual(config.uplinks, [
      {
        name: 'cloud',
        transport: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        clientId: 'wasmgate-gw1',
        username: null,
        password: null,
        qos: 1,
        keepaliveMs: 30_000,
        reconnect: { minMs: 1_000, maxMs: 30_000 },
        tls: null,
        protocol: 'auto',
        cleanSession: true,
        sessionExpiryMs: null,
        messageExpiryMs: null,
        status: { topic: 'wasmgate/gw1/status', online: 'online', offline: 'offline', stopped: 'offline' },
        // config.md's outbox defaults: 256 MiB, 168 h, 16 MiB.
        outbox: {
          maxBytes: 268_435_456, maxAgeMs: 604_800_000, memoryMaxBytes: 16_777_216, replay: { mode: 'in_order' }, mark: 'auto',
          reportTopic: 'wasmgate/gw1/outbox/cloud',
        },
      },
    ]);
    const [pipeline] = config.pipelines;
    assert.ok(pipeline);
    assert.equal(pipeline.name, 'boiler-room');
    assert.equal(pipeline.file, ws.path('p.yaml'));
    assert.deepEqual(pipeline.batch, { maxRecords: 256, deadlineMs: 250 });
    assert.deepEqual(pipeline.ring, { ingressBytes: 262_144, egressBytes: 262_144 });
    const point = {
      protocol: 'modbus',
      id: 0,
      name: 'boiler.temp',
      device: 0,
      function: 3,
      address: 0,
      type: 'int16',
      order: 'ABCD',
      length: null,
      registers: 1,
      bit: null,
      unit: '',
      scale: 1,
      offset: 0,
      description: '',
      access: 'read',
      writeFunction: null,
    };
    assert.deepEqual(pipeline.source, {
      kinds: ['modbus_tcp'],
      links: [
        {
          index: 0,
          // Where the problems found across pipelines point: the connection's first device.
          at: ['source', 'modbus_tcp', 'devices', 0],
          // An unshared Modbus TCP connection is named after its device.
          name: 'plc1',
          kind: 'modbus_tcp',
          framing: 'tcp',
          transport: 'tcp',
          host: '127.0.0.1',
          port: 502,
          inFlight: 1,
          silenceMs: 0,
          // MBAP 7 + PDU 253 (Modbus Messaging on TCP/IP V1.0b, 4.1).
          maxFrameBytes: 260,
          connectTimeoutMs: 1_000,
          backoff: { minMs: 500, maxMs: 30_000 },
          devices: [0],
        },
      ],
      devices: [
        {
          index: 0,
          at: ['source', 'modbus_tcp', 'devices', 0],
          name: 'plc1',
          kind: 'modbus_tcp',
          framing: 'tcp',
          unitId: 1,
          intervalMs: 1_000,
          timeoutMs: 1_000,
          retries: 1,
          turnaroundMs: 0,
          quarantineAfter: 3,
          address: '127.0.0.1:502',
          link: 0,
          points: [point],
          bacnet: null,
        },
      ],
    });
    assert.deepEqual(pipeline.points, [point]);
    assert.deepEqual(
      pipeline.steps.map((s) => [s.index, s.plugin, s.kind, s.wasmPath, s.with]),
      [
        [0, 'fixture-decoder', 'decoder', join(FIXTURE_PLUGINS, 'fixture-decoder/build/fixture-decoder.wasm'), {}],
        [1, 'fixture-transform', 'transform', join(FIXTURE_PLUGINS, 'fixture-transform/build/fixture-transform.wasm'), { factor: 1, mode: 'linear', points: {} }],
        [2, 'fixture-encoder', 'encoder', join(FIXTURE_PLUGINS, 'fixture-encoder/build/fixture-encoder.wasm'), { shape: 'sample' }],
      ],
    );
    // publish.qos follows the uplink's qos (1) when the pipeline gives none.
    assert.deepEqual(pipeline.publish, { uplink: 'cloud', topic: 'wasmgate/{gateway}/{pipeline}/{point}', qos: 1, retain: false });
  } finally {
    await ws.remove();
  }
});

test('written values win over defaults; ids count across devices; TLS and password files resolve', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    // A certificate, because the loader reads what a TLS file holds (mqtt-tls-files.ts).
    await copyFile(join(REPO_ROOT, 'test/fixtures/tls/ca.pem'), ws.path('ca.pem'));
    await writeFile(ws.path('pw'), 's3cret\n');
    const config = await loadValid(
      ws,
      [
        'gateway:',
        '  id: site-7',
        '  data_dir: /var/lib/wasmgate',
        '  log: { level: debug, format: pretty }',
        `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`,
        'uplinks:',
        '  cloud:',
        '    mqtt:',
        '      url: mqtts://broker.local:8883',
        '      client_id: edge-7',
        '      username: gw',
        '      password_file: pw',
        '      keepalive: 1m',
        '      reconnect: { min: 250ms, max: 2m }',
        '      tls: { ca: ./ca.pem, reject_unauthorized: false }',
        'pipelines: [ p.yaml ]',
      ],
      [
        'pipeline:',
        '  name: hall',
        '  batch: { max_records: 64, deadline: 1.5s }',
        '  ring: { ingress: 64KiB, egress: 4096 }',
        'source:',
        '  modbus_tcp:',
        '    devices:',
        '      - { name: a, host: 10.0.0.1, port: 1502, unit_id: 0, interval: 100, timeout: 2s, retries: 0,',
        '          backoff: { min: 1s, max: 1m },',
        '          points: [ { name: t1, function: 4, address: 7, type: float64, order: CDAB, unit: degC, scale: 0.1, offset: -40 } ] }',
        '      - name: b',
        '        host: 10.0.0.2',
        '        points:',
        '          - { name: run, function: 3, address: 1, type: bool, bit: 15 }',
        '          - { name: tag, function: 3, address: 100, type: string, length: 8, description: "asset tag" }',
        '          - { name: door, function: 2, address: 5, type: bool }',
        'steps:',
        '  - plugin: fixture-decoder',
        '  - plugin: fixture-encoder',
        '    with: { shape: batch }',
        'publish: { uplink: cloud, topic: "plant/{device}/{point}", qos: 0, retain: true }',
      ],
    );
    assert.equal(config.dataDir, '/var/lib/wasmgate');
    assert.deepEqual(config.log, { level: 'debug', format: 'pretty' });
    const [uplink] = config.uplinks;
    assert.ok(uplink && uplink.transport === 'mqtt');
    assert.equal(uplink.clientId, 'edge-7');
    assert.equal(uplink.username, 'gw');
    assert.equal(uplink.password, 's3cret');
    assert.equal(uplink.keepaliveMs, 60_000);
    assert.deepEqual(uplink.reconnect, { minMs: 250, maxMs: 120_000 });
    assert.deepEqual(uplink.tls, { ca: ws.path('ca.pem'), cert: null, key: null, rejectUnauthorized: false });

    const [p] = config.pipelines;
    assert.ok(p);
    assert.deepEqual(p.batch, { maxRecords: 64, deadlineMs: 1_500 });
    assert.deepEqual(p.ring, { ingressBytes: 65_536, egressBytes: 4_096 });
    const [a, b] = p.source.devices;
    const link = p.source.links[a!.link];
    assert.deepEqual(
      [link?.transport === 'tcp' ? link.port : undefined, a?.unitId, a?.intervalMs, a?.timeoutMs, a?.retries, link?.backoff],
      [1502, 0, 100, 2_000, 0, { minMs: 1_000, maxMs: 60_000 }],
    );
    assert.deepEqual(
      modbusPoints(p.points).map((pt) => [pt.id, pt.name, pt.device, pt.type, pt.length, pt.registers, pt.bit, pt.order]),
      [
        [0, 't1', 0, 'float64', null, 4, null, 'CDAB'],
        [1, 'run', 1, 'bool', null, 1, 15, 'ABCD'],
        [2, 'tag', 1, 'string', 8, 8, null, 'ABCD'],
        [3, 'door', 1, 'bool', null, 1, null, 'ABCD'],
      ],
    );
    assert.deepEqual([modbusPoints(p.points)[0]?.unit, modbusPoints(p.points)[0]?.scale, modbusPoints(p.points)[0]?.offset], ['degC', 0.1, -40]);
    assert.equal(p.points[2]?.description, 'asset tag');
    // A device's points are the very objects listed on the pipeline.
    assert.equal(b?.points[0], p.points[1]);
    assert.deepEqual(p.steps[1]?.with, { shape: 'batch' });
    assert.deepEqual(p.publish, { uplink: 'cloud', topic: 'plant/{device}/{point}', qos: 0, retain: true });
  } finally {
    await ws.remove();
  }
});

test('the resolved configuration is frozen all the way down', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const config = await loadValid(ws, gatewayLines(), pipelineLines());
    const pipeline = config.pipelines[0]!;
    for (const value of [
      config,
      config.log,
      config.pluginDirs,
      config.uplinks[0],
      config.uplinks[0]!.reconnect,
      pipeline,
      pipeline.batch,
      pipeline.source.devices[0],
      pipeline.points[0],
      pipeline.steps[1],
      pipeline.steps[1]!.with,
      pipeline.steps[1]!.manifest,
      pipeline.steps[1]!.manifest.with,
      pipeline.publish,
    ]) {
      assert.ok(Object.isFrozen(value), JSON.stringify(value).slice(0, 60));
    }
    assert.throws(() => {
      (pipeline.batch as { deadlineMs: number }).deadlineMs = 1;
    }, TypeError);
  } finally {
    await ws.remove();
  }
});

test('without plugin_dirs, plugins are looked up in the package\'s own plugins/ directory', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', pipelineLines());
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines().filter((l) => !l.startsWith('  plugin_dirs'))));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems[0]!.message, `plugin "fixture-decoder" not found: looked for ${join(REPO_ROOT, 'plugins/fixture-decoder/plugin.yaml')}`);
  } finally {
    await ws.remove();
  }
});
