/**
 * The coap uplink kind through the loader: its defaults as docs/config.md gives them, and the URLs it
 * refuses with a position (line N is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function gateway(coapLines: string[]): string[] {
  return [
    'gateway:', // 1
    '  id: gw1', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud:', // 5
    '    coap:', // 6
    ...coapLines, // 7...
    'pipelines: [ p.yaml ]',
  ];
}

async function load(coapLines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...pipelineLines(), '  topic: "plant/{device}/{point}"']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway(coapLines)));
  } finally {
    await ws.remove();
  }
}

test('a coap uplink resolves with the defaults docs/config.md gives', async () => {
  const result = await load(['      url: coap://[::1]/telemetry/site%201']);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
  assert.deepEqual(result.config.uplinks[0], {
    name: 'cloud', transport: 'coap', url: 'coap://[::1]/telemetry/site%201', host: '::1', port: 5683,
    path: ['telemetry', 'site 1'], method: 'POST', qos: 1, blockSize: 1024, inFlight: 1, maxRetransmit: 4,
    reconnect: { minMs: 1_000, maxMs: 30_000 },
    // 256 MiB = 268 435 456 B, 168 h = 604 800 000 ms, 16 MiB = 16 777 216 B (config.md, `outbox`).
    outbox: {
      maxBytes: 268_435_456, maxAgeMs: 604_800_000, memoryMaxBytes: 16_777_216, replay: { mode: 'in_order' }, mark: 'auto',
      reportTopic: 'wasmgate/gw1/outbox/cloud',
    },
  });
  // QoS of a pipeline that does not say: the uplink's.
  assert.equal(result.config.pipelines[0]!.publish.qos, 1);
});

test('coaps:// is refused at the url, saying there is no DTLS', async () => {
  const result = await load(['      url: coaps://ingest.example/t']);
  assert.equal(result.ok, false);
  const [p] = result.ok ? [] : result.problems;
  assert.equal(`${p!.line}:${p!.column} ${p!.path}`, '7:12 uplinks.cloud.coap.url');
  assert.match(p!.message, /node-coap has no DTLS/);
});

test('a block size that is no power of two from 16 to 1024 is refused', async () => {
  const result = await load(['      url: coap://ingest.example/t', '      block_size: 100']);
  assert.equal(result.ok, false);
  const [p] = result.ok ? [] : result.problems;
  assert.equal(`${p!.line}:${p!.column} ${p!.path}`, '8:19 uplinks.cloud.coap.block_size');
});

test('an empty outbox block (`outbox: ~`) is refused at its line, not a TypeError from the checks', async () => {
  const result = await load(['      url: coap://ingest.example/t', '      outbox: ~']);
  assert.equal(result.ok, false);
  const [p] = result.ok ? [] : result.problems;
  assert.equal(`${p!.line}:${p!.column} ${p!.path}`, '8:15 uplinks.cloud.coap.outbox');
  assert.match(p!.message, /must be a map of settings/);
});
