/**
 * Not every CoAP 4.xx is a refusal for good. 4.29 Too Many Requests (RFC 8516) tells a client to come
 * back later: a server throttling a gateway that replays an outage's backlog answers it. 4.08 Request
 * Entity Incomplete (RFC 7959 2.9.2) says the server lacks earlier blocks of a block-wise request
 * (it restarted in the middle, or dropped the transfer's state): sent again, the message goes whole.
 * The sink took both for "refused for good" and dead-lettered good readings.
 *
 * libcoap's coap-server answers neither on demand, so the peer here is a minimal responder over
 * loopback UDP that piggybacks the given codes on its ACKs (RFC 7252 3, 5.2.1): first the 4.xx, then
 * 2.04 Changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { CoapSink } from '../../src/host/sinks/coap.js';

const silent = pino({ level: 'silent' });

/** CoAP code byte: class << 5 | detail. */
const code = (cls: number, detail: number): number => (cls << 5) | detail;
const CHANGED = code(2, 4);

/** Answers each confirmable request with the next of `codes`, then 2.04; records what it answered. */
async function responder(codes: number[]): Promise<{ port: number; answered: string[]; close: () => void }> {
  const socket: Socket = createSocket('udp4');
  const answered: string[] = [];
  socket.on('message', (msg, from) => {
    const type = (msg[0]! >> 4) & 0x3;
    const tokenLength = msg[0]! & 0x0f;
    if (type !== 0) return; // confirmable requests only
    const answer = codes.shift() ?? CHANGED;
    answered.push(`${answer >> 5}.${String(answer & 0x1f).padStart(2, '0')}`);
    // ACK (type 2), same message id and token, the code, no options, no payload.
    const reply = Buffer.concat([Buffer.of(0x60 | tokenLength, answer, msg[2]!, msg[3]!), msg.subarray(4, 4 + tokenLength)]);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, answered, close: () => socket.close() };
}

async function publishAgainst(codes: number[]): Promise<{ outcome: string; answered: string[] }> {
  const peer = await responder(codes);
  const sink = new CoapSink({ name: 'field', host: '127.0.0.1', port: peer.port, path: ['ingest'], method: 'PUT', qos: 1, blockSize: 1024, inFlight: 1, maxRetransmit: 4, reconnect: { minMs: 20, maxMs: 100 } }, silent);
  sink.start();
  try {
    const outcome = await sink.publish('m/1', '{"v":1}').then(() => 'delivered', (e: { code?: string }) => e.code ?? String(e));
    return { outcome, answered: peer.answered };
  } finally {
    await sink.close();
    peer.close();
  }
}

test('4.29 Too Many Requests is "later", not "never": the message is sent again and delivered', async () => {
  assert.deepEqual(await publishAgainst([code(4, 29), code(4, 29)]), { outcome: 'delivered', answered: ['4.29', '4.29', '2.04'] });
});

test('4.08 Request Entity Incomplete (the server lost the earlier blocks) is sent again and delivered', async () => {
  assert.deepEqual(await publishAgainst([code(4, 8)]), { outcome: 'delivered', answered: ['4.08', '2.04'] });
});

test('the other 4.xx still refuse for good: 4.13 Request Entity Too Large is answered once and refused', async () => {
  assert.deepEqual(await publishAgainst([code(4, 13)]), { outcome: 'WG_ERR_UPLINK_REFUSED', answered: ['4.13'] });
});
