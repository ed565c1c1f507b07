/**
 * A CoAP server that receives a confirmable request but whose every answer is lost (a one-way
 * firewall, a radio link that drops the downlink) must cost the message one RFC 7252
 * MAX_TRANSMIT_WAIT, not node-coap's EXCHANGE_LIFETIME: the sink gives the exchange up after its last
 * retransmission has had its back-off interval, goes offline, and sends the message again.
 *
 * The peer is a minimal loopback UDP responder (libcoap's server cannot be told to drop exactly the
 * first exchange's answers): it swallows the first request's every transmission, then answers 2.04.
 * The timing is shortened with node-coap's own knob (ACK_TIMEOUT 20 ms, no random factor), so the
 * transmit wait is 20 ms × (2^3 − 1) = 140 ms while the exchange lifetime stays above 200 s (its
 * MAX_LATENCY term is fixed at 100 s): before the fix this test ran into its deadline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { defaultTiming, parameters, updateTiming } from 'coap';
import { CoapSink, transmitWaitMs } from '../../src/host/sinks/coap.js';

const silent = pino({ level: 'silent' });
const CHANGED = (2 << 5) | 4;

before(() => updateTiming({ ackTimeout: 0.02, ackRandomFactor: 1 }));
after(() => defaultTiming());

/** Swallows every transmission of the first confirmable message id it sees; answers later ones with 2.04. */
async function deafToTheFirst(): Promise<{ port: number; swallowed: () => number; answered: () => number; close: () => void }> {
  const socket: Socket = createSocket('udp4');
  let first: number | undefined;
  let swallowed = 0;
  let answered = 0;
  socket.on('message', (msg, from) => {
    if (((msg[0]! >> 4) & 0x3) !== 0) return;
    const id = msg.readUInt16BE(2);
    first ??= id;
    if (id === first) {
      swallowed++;
      return;
    }
    answered++;
    const tokenLength = msg[0]! & 0x0f;
    socket.send(Buffer.concat([Buffer.of(0x60 | tokenLength, CHANGED, msg[2]!, msg[3]!), msg.subarray(4, 4 + tokenLength)]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, swallowed: () => swallowed, answered: () => answered, close: () => socket.close() };
}

test('the transmit wait follows RFC 7252 4.8.2 for the uplink\'s retransmissions, once per block', () => {
  // At the shortened timing: 20 ms × (2^(2+1) − 1) × 1 = 140 ms; three blocks wait three times that.
  assert.equal(Math.round(transmitWaitMs(2, 1)), 140);
  assert.equal(Math.round(transmitWaitMs(2, 3)), 420);
  // node-coap's exchange lifetime, which it waited before: far longer.
  assert.ok(parameters.exchangeLifetime * 1000 > 200_000);
});

test('every answer to an exchange lost: given up after the last retransmission, then sent again and delivered', { timeout: 30_000 }, async () => {
  const peer = await deafToTheFirst();
  const sink = new CoapSink({ name: 'field', host: '127.0.0.1', port: peer.port, path: ['ingest'], method: 'PUT', qos: 1, blockSize: 1024, inFlight: 1, maxRetransmit: 2, reconnect: { minMs: 20, maxMs: 100 } }, silent);
  const states: string[] = [];
  sink.onStateChange((s) => states.push(s));
  sink.start();
  try {
    await sink.publish('m/1', '{"v":1}');
    // The first exchange: the request and both retransmissions, none answered; then one answered.
    assert.deepEqual({ swallowed: peer.swallowed(), answered: peer.answered() }, { swallowed: 3, answered: 1 });
    assert.deepEqual({ acked: sink.counters().acked, reconnects: sink.counters().reconnects }, { acked: 1, reconnects: 1 });
    assert.deepEqual(states.filter((s, i) => s !== states[i - 1]).slice(-2), ['offline', 'connected']);
  } finally {
    await sink.close();
    peer.close();
  }
});
