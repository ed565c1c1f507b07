/**
 * The gateway file's `metrics:` block through the loader (src/host/metrics/metrics-settings.ts): off by
 * default, an address as written, and each refusal at its line and column (line N is element N-1 of
 * the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function gateway(metricsLines: string[]): string[] {
  return [
    'gateway:', // 1
    '  id: gw1', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud: { mqtt: { url: "mqtt://127.0.0.1:1883" } }', // 5
    'pipelines: [ p.yaml ]', // 6
    ...metricsLines, // 7...
  ];
}

async function load(metricsLines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...pipelineLines(), '  topic: "plant/{device}/{point}"']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway(metricsLines)));
  } finally {
    await ws.remove();
  }
}

async function problem(listen: string): Promise<string> {
  const result = await load(['metrics:', `  listen: ${listen}`]);
  assert.equal(result.ok, false, `${listen} refused`);
  const [p] = result.ok ? [] : result.problems;
  return `${p!.line}:${p!.column} ${p!.path}: ${p!.message}`;
}

test('off unless the gateway file asks', async () => {
  const result = await load([]);
  assert.ok(result.ok);
  assert.equal(result.config.metrics, null);
  const off = await load(['metrics: { listen: false }']);
  assert.ok(off.ok);
  assert.equal(off.config.metrics, null);
});

test('an address as written: IPv4, IPv6 in brackets, localhost, port 0', async () => {
  for (const [listen, host, port] of [['127.0.0.1:9464', '127.0.0.1', 9464], ['"[::1]:9100"', '::1', 9100], ['localhost:0', 'localhost', 0]] as const) {
    const result = await load(['metrics:', `  listen: ${listen}`]);
    assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
    assert.deepEqual(result.config.metrics, { host, port });
  }
});

test('an address beyond loopback is taken, with a hint that it can be read from the network', async () => {
  const result = await load(['metrics:', '  listen: 0.0.0.0:9464']);
  assert.ok(result.ok);
  assert.deepEqual(result.config.metrics, { host: '0.0.0.0', port: 9464 });
  assert.ok(result.hints.some((h) => /metrics on 0\.0\.0\.0 can be read beyond this machine/.test(h.message)), JSON.stringify(result.hints));
});

test('what is not host:port is refused at the setting', async () => {
  assert.match(await problem('"9464"'), /^8:11 metrics\.listen: .*must be host:port/);
  assert.match(await problem('9464'), /^8:11 metrics\.listen: must be a string/);
  assert.match(await problem('127.0.0.1:99999'), /^8:11 metrics\.listen: .*port 99999 is above 65535/);
  assert.match(await problem('gateway.local:9464'), /^8:11 metrics\.listen: .*must be an IP address or localhost/);
  assert.match(await problem('"[127.0.0.1]:9464"'), /^8:11 metrics\.listen: .*only an IPv6 address goes in brackets/);
  assert.match(await problem('"::1:9464"'), /^8:11 metrics\.listen: .*must be host:port/);
  assert.match(await problem('true'), /^8:11 metrics\.listen: .*true is neither/);
});
