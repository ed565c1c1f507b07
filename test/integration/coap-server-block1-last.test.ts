// A Block1 transfer whose last block is refused for the rate (5.03, Max-Age 1) keeps what it has: the
// sender sends that last block again after Max-Age and the body is taken whole, instead of the
// server having dropped the transfer (the repeat answered 4.08, every block to send again). A raw
// UDP socket in the test is the sender; datagrams are built by hand from RFC 7252 3 and RFC 7959 2.2
// (Block1 is option 27, its value NUM << 4 | M << 3 | SZX). The clock is the test's, so the bucket
// refills when the test says (rate 1 a second, burst 1).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { CoapServerListener } from '../../src/host/sources/coap-server-listener.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';

test('the last block refused for the rate is taken when sent again after Max-Age; the body is whole', async () => {
  let now = 0;
  const pushed: PushedFrame[] = [];
  const listener = new CoapServerListener(
    { index: 0, at: [], name: 'coap_server', kind: 'coap_server', framing: 'push', devices: [0], inFlight: 1, silenceMs: 0, maxFrameBytes: 256, connectTimeoutMs: 2000, backoff: { minMs: 100, maxMs: 1000 }, transport: 'push', endpoint: 'udp 127.0.0.1:0', limits: { ratePerSecond: 1, burst: 1, maxWaiting: 8 }, maxBodyBytes: 256 },
    { bindAddress: '127.0.0.1', port: 0, resources: [{ path: 't', device: 0, point: 0 }], mediaTypes: ['application/json'], maxBlockTransfers: 4, blockTimeoutMs: 30_000, maxCachedMessages: 64 },
    { ingress: { maxBodyBytes: 256, push: (frame) => { pushed.push(frame); return Promise.resolve(true); } }, clock: { wallMs: () => Date.now(), monotonicMs: () => now }, log: () => {} },
  );
  await listener.start();
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const exchange = async (hex: string): Promise<string> => {
    peer.send(Buffer.from(hex.replace(/\s/g, ''), 'hex'), listener.port!, '127.0.0.1');
    const [reply] = (await once(peer, 'message')) as [Buffer];
    return `${reply[1]! >> 5}.${String(reply[1]! & 31).padStart(2, '0')}`;
  };
  const first = '30313233343536373839616263646566'; // "0123456789abcdef": block 0, 16 bytes (SZX 0)
  const last = '7a'; // "z"
  try {
    // CON POST, Uri-Path "t", Block1 (delta 16: nibble 13, extended 03) 1 byte: NUM 0, M 1, SZX 0 = 0x08.
    assert.equal(await exchange(`40020001 b174 d103 08 ff ${first}`), '2.31');
    // The last block, NUM 1, M 0 = 0x10: the bucket is empty.
    assert.equal(await exchange(`40020002 b174 d103 10 ff ${last}`), '5.03');
    now += 1000;
    assert.equal(await exchange(`40020003 b174 d103 10 ff ${last}`), '2.04');
    assert.deepEqual(pushed.map((f) => Buffer.from(f.body).toString()), ['0123456789abcdefz']);
    assert.equal(listener.status().waiting, 0, 'the refused last block gave back nothing it did not take');
  } finally {
    peer.close();
    await listener.stop();
  }
});
