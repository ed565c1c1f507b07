// libcoap's coap-client (not our code) percent-decodes a URI's path into Uri-Path options (RFC 7252
// 6.4): coap://host/floor%201/x is the options "floor 1", "x". The resource here is what the loader
// resolves "/floor%201/r%C3%A4um" to (test/unit/config-coap-resource-encoding.test.ts); Uri-Query is ignored.
import test from 'node:test';
import assert from 'node:assert/strict';
import { CoapServerListener } from '../../src/host/sources/coap-server-listener.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';
import { coapClient, findCoapClient } from '../support/coap-client.js';
import { needs } from '../support/tools.js';

const gate = needs('libcoap3-bin', findCoapClient());

test('a percent-encoded resource from the config is reached by coap-client posting to the same URI, on IPv4 and IPv6', gate, async () => {
  for (const bind of ['127.0.0.1', '::1']) {
    const pushed: PushedFrame[] = [];
    const listener = new CoapServerListener(
      { index: 0, at: [], name: 'coap_server', kind: 'coap_server', framing: 'push', devices: [0], inFlight: 1, silenceMs: 0, maxFrameBytes: 256, connectTimeoutMs: 2000, backoff: { minMs: 100, maxMs: 1000 }, transport: 'push', endpoint: `udp ${bind}:0`, limits: { ratePerSecond: 100, burst: 100, maxWaiting: 8 }, maxBodyBytes: 256 },
      { bindAddress: bind, port: 0, resources: [{ path: 'floor 1/räum', device: 0, point: 0 }], mediaTypes: ['application/json'], maxBlockTransfers: 4, blockTimeoutMs: 30_000, maxCachedMessages: 64 },
      { ingress: { maxBodyBytes: 256, push: (frame) => { pushed.push(frame); return Promise.resolve(true); } }, clock: { wallMs: () => Date.now(), monotonicMs: () => performance.now() }, log: () => {} },
    );
    await listener.start();
    try {
      const host = bind.includes(':') ? `[${bind}]` : bind;
      const run = await coapClient(['-m', 'post', '-e', '21.5', `coap://${host}:${listener.port}/floor%201/r%C3%A4um?battery=low`]);
      assert.deepEqual(run.answers, [['ACK', '2.04']], bind);
      assert.deepEqual(pushed.map((f) => [f.resource, Buffer.from(f.body).toString()]), [['/floor 1/räum', '21.5']], bind);
      assert.ok(pushed[0]!.sender.startsWith(bind.includes(':') ? `[${bind}]:` : `${bind}:`), pushed[0]!.sender);
    } finally {
      await listener.stop();
    }
  }
});
