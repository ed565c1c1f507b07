// A coap_server resource written as in a URI (percent-encoded, RFC 3986 2.1) is the path its
// requests carry: a client puts coap://gw/a%20b into the Uri-Path option "a b" (RFC 7252 6.4, step 8;
// libcoap's coap-client does: test/interop/coap-server-uri-path.test.ts). Written encoded, it used to
// be compared encoded and no request could ever reach it. What cannot be decoded, or decodes to a /
// inside a segment, is refused at its setting. Line N is element N-1 of the array.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

const TAIL = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud', '  topic: "push/{device}/{point}"'];

async function load(lines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
  } finally {
    await ws.remove();
  }
}

test('a percent-encoded resource is compared decoded, as its Uri-Path options carry it', async () => {
  const result = await load([
    'pipeline: { name: rooms }',
    'source:',
    '  coap_server:',
    '    devices:',
    '      - { name: a, resource: "/floor%201/r%C3%A4um", points: [ { name: t, resource: "x%2Dy" } ] }',
    ...TAIL,
  ]);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
  const link = result.config.pipelines[0]!.source.links[0]!;
  assert.deepEqual(link.transport === 'push' ? link.coap!.resources.map((r) => r.path) : [], ['floor 1/räum', 'x-y']);
});

test('a % that starts no encoding, and a segment that decodes to a /, are refused at their setting', async () => {
  const result = await load([
    'pipeline: { name: rooms }', // 1
    'source:', // 2
    '  coap_server:', // 3
    '    devices:', // 4
    '      - { name: a, resource: "r/100%", points: [ { name: t } ] }', // 5
    '      - { name: b, resource: "a%2Fb", points: [ { name: t } ] }', // 6
    ...TAIL,
  ]);
  assert.equal(result.ok, false);
  const problems = result.ok ? [] : result.problems;
  assert.deepEqual(problems.map((p) => `${p.line} ${p.path}`), ['5 source.coap_server.devices[0].resource', '6 source.coap_server.devices[1].resource']);
  assert.match(problems[0]!.message, /segment "100%" has a % that starts no percent-encoding/);
  assert.match(problems[1]!.message, /segment "a%2Fb" decodes to a \//);
});
