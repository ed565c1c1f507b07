// The coap_server listener against a hostile peer: a raw UDP socket in the test sends datagrams that
// break RFC 7252's message format (section 3) or carry critical options this server does not act on,
// each built here byte by byte from the RFC's layout: Ver 1, T, TKL | Code | Message ID | Token |
// options (delta and length nibbles, 13/14 extended, 15 reserved) | 0xFF payload. Each must be
// refused (a Reset for a Confirmable one, RFC 7252 4.2; 5.05 for Proxy-Uri, 5.7.2; 4.02 for an
// unknown critical option, 5.4.1) and nothing of it may reach the ingress ring. The ingress here
// records what the listener hands it (the listener is what is tested; the ring has tests of its own).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { CoapServerListener } from '../../src/host/sources/coap-server-listener.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';

async function withListener(run: (send: (hex: string) => Promise<Buffer | undefined>, pushed: PushedFrame[]) => Promise<void>): Promise<void> {
  const pushed: PushedFrame[] = [];
  const listener = new CoapServerListener(
    { index: 0, at: [], name: 'coap_server', kind: 'coap_server', framing: 'push', devices: [0], inFlight: 1, silenceMs: 0, maxFrameBytes: 256, connectTimeoutMs: 2000, backoff: { minMs: 100, maxMs: 1000 }, transport: 'push', endpoint: 'udp 127.0.0.1:0', limits: { ratePerSecond: 1000, burst: 1000, maxWaiting: 8 }, maxBodyBytes: 256 },
    { bindAddress: '127.0.0.1', port: 0, resources: [{ path: 't', device: 0, point: 0 }], mediaTypes: ['application/json'], maxBlockTransfers: 4, blockTimeoutMs: 30_000, maxCachedMessages: 64 },
    {
      ingress: { maxBodyBytes: 256, push: (frame) => { pushed.push(frame); return Promise.resolve(true); } },
      clock: { wallMs: () => Date.now(), monotonicMs: () => performance.now() },
      log: () => {},
    },
  );
  await listener.start();
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const replies: Buffer[] = [];
  peer.on('message', (m) => replies.push(m));
  // Each datagram is followed by a probe, a well-formed CON POST of "1" to /t: its ACK tells that the
  // one before it was handled (datagrams on loopback are handled in order). The probe's body is dropped.
  let mid = 0x100;
  const send = async (hex: string): Promise<Buffer | undefined> => {
    const before = replies.length;
    peer.send(Buffer.from(hex.replace(/\s/g, ''), 'hex'), listener.port!, '127.0.0.1');
    const probeMid = ++mid;
    const probe = Buffer.from(`4002${probeMid.toString(16).padStart(4, '0')}b174ff31`, 'hex');
    peer.send(probe, listener.port!, '127.0.0.1');
    while (!replies.slice(before).some((r) => r.readUInt16BE(2) === probeMid)) await new Promise((r) => setTimeout(r, 10));
    pushed.pop(); // the probe's body
    return replies.slice(before).find((r) => r.readUInt16BE(2) !== probeMid);
  };
  try {
    await run(send, pushed);
  } finally {
    peer.close();
    await listener.stop();
  }
}

/** Type and code of a reply: `RST 0.00`, `ACK 2.04`. */
function kind(reply: Buffer | undefined): string {
  if (!reply) return 'none';
  const type = ['CON', 'NON', 'ACK', 'RST'][(reply[0]! >> 4) & 3];
  return `${type} ${reply[1]! >> 5}.${String(reply[1]! & 31).padStart(2, '0')}`;
}

test('the probe itself: a CON POST of "1" to /t is taken and ACKed 2.04', async () => {
  await withListener(async (send, pushed) => {
    // CON, TKL 0, POST, mid 0x0001, Uri-Path "t" (delta 11, length 1), marker, "2".
    const reply = await send('40020001 b174 ff 32');
    assert.equal(kind(reply), 'ACK 2.04');
    assert.deepEqual(pushed.map((f) => Buffer.from(f.body).toString()), ['2']);
  });
});

test('format errors of RFC 7252 3 are refused with a Reset and never reach the ring', async () => {
  await withListener(async (send, pushed) => {
    const cases: Record<string, string> = {
      // TKL 9: "Lengths 9-15 are reserved, MUST NOT be sent, and MUST be processed as a message format error."
      'token length 9': '49020002 010203040506070809 b174 ff 32',
      // Uri-Path declared 5 bytes long with 1 left: coap-packet hands over "t", the configured resource.
      'an option running past the datagram': '40020003 b574',
      // "The presence of a marker followed by a zero-length payload MUST be processed as a message format error."
      'a payload marker with no payload': '40020004 b174 ff',
      // Delta nibble 15 without the whole byte being 0xFF: reserved.
      'option delta 15': '40020005 f174 ff 32',
      // An empty message (0.00) with bytes after its header.
      'an empty message with a token': '41000006 aa',
    };
    for (const [name, hex] of Object.entries(cases)) {
      const reply = await send(hex);
      assert.equal(kind(reply), 'RST 0.00', name);
      assert.equal(reply!.readUInt16BE(2), Buffer.from(hex.replace(/\s/g, ''), 'hex').readUInt16BE(2), `${name}: the Reset names its message id`);
    }
    assert.deepEqual(pushed, [], 'nothing of a malformed message is a reading');
  });
});

test('critical options this server does not act on are refused, not ignored: Proxy-Uri 5.05, OSCORE 4.02', async () => {
  await withListener(async (send, pushed) => {
    // Uri-Path "t" (11), then Proxy-Uri (35: delta 24 = 13 + 11 in one extra byte) "coap://x".
    assert.equal(kind(await send('40020007 b174 d8 0b 636f61703a2f2f78 ff 32')), 'ACK 5.05');
    // OSCORE (9) with an empty value, then Uri-Path "t" (delta 2).
    assert.equal(kind(await send('40020008 90 2174 ff 32')), 'ACK 4.02');
    assert.deepEqual(pushed, []);
  });
});
