/**
 * Two pipelines' coap_server sources on one UDP port: the second could never bind it (EADDRINUSE at
 * start), so the loader refuses it at its `port`, with file, line and column, naming the first.
 * Line N is element N-1 of the array; columns count from 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, type LoadResult } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

function coapPipeline(name: string, bind: string, port: number): string[] {
  return [
    `pipeline: { name: ${name} }`, // 1
    'source:', // 2
    '  coap_server:', // 3
    `    bind: "${bind}"`, // 4
    `    port: ${port}`, // 5
    `    devices: [ { name: dev-${name}, resource: ${name}, points: [ { name: temp } ] } ]`, // 6
    'steps:',
    '  - plugin: fixture-decoder',
    '  - plugin: fixture-encoder',
    'publish:',
    '  uplink: cloud',
    '  topic: "push/{device}/{point}"',
  ];
}

async function load(first: string[], second: string[]): Promise<LoadResult> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('a.yaml', first);
    await ws.write('b.yaml', second);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['a.yaml', 'b.yaml'])));
  } finally {
    await ws.remove();
  }
}

function where(result: LoadResult): string[] {
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

test('a second coap_server on the port another pipeline binds is refused at its port, naming the first', async () => {
  const result = await load(coapPipeline('rooms', '0.0.0.0', 5683), coapPipeline('halls', '0.0.0.0', 5683));
  assert.deepEqual(where(result), ['b.yaml:5:11 source.coap_server.port WG_ERR_CONFIG_CONFLICT']);
  assert.match(result.ok ? '' : result.problems[0]!.message, /udp port 5683 on 0\.0\.0\.0 is bound already by pipeline rooms's coap_server on 0\.0\.0\.0 \(.*a\.yaml:5:11\)/);
});

test('a wildcard bind holds the port on every address: 127.0.0.1 after 0.0.0.0, and an IPv4 address after ::, collide', async () => {
  assert.deepEqual(where(await load(coapPipeline('rooms', '0.0.0.0', 5683), coapPipeline('halls', '127.0.0.1', 5683))), ['b.yaml:5:11 source.coap_server.port WG_ERR_CONFIG_CONFLICT']);
  assert.deepEqual(where(await load(coapPipeline('rooms', '::', 5683), coapPipeline('halls', '127.0.0.1', 5683))), ['b.yaml:5:11 source.coap_server.port WG_ERR_CONFIG_CONFLICT']);
});

test('other ports, two addresses of their own, and port 0 (the OS picks one each time) load', async () => {
  for (const [a, b] of [[['0.0.0.0', 5683], ['0.0.0.0', 5684]], [['127.0.0.1', 5683], ['127.0.0.2', 5683]], [['0.0.0.0', 0], ['0.0.0.0', 0]]] as const) {
    const result = await load(coapPipeline('rooms', a[0], a[1]), coapPipeline('halls', b[0], b[1]));
    assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
  }
});
