/**
 * A response's timeout on a slow serial line counts the time its bytes take on the wire: a 20-byte
 * answer at 20 ms a byte (about 550 baud) needs 400 ms to arrive even from a device that answers at
 * once. Over a real TCP loopback (the transport is not under test), the answer's second half comes
 * 250 ms after its first: past a 100 ms timeout, within the timeout plus the answer's wire time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { systemClock } from '../../src/hal/clock.js';
import { tcpTransport } from '../../src/hal/tcp.js';
import { readFrame } from '../../src/host/poll/frame-reader.js';

async function trickle(byteTimeMs: number): Promise<'frame' | string> {
  let peer: Socket | undefined;
  const server = createServer((s) => (peer = s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const transport = tcpTransport({ device: 'slow', host: '127.0.0.1', port, connectTimeoutMs: 1_000 });
  await transport.open();
  while (!peer) await new Promise((r) => setTimeout(r, 5));
  const frame = new Uint8Array(20).fill(7);
  peer.write(frame.subarray(0, 10));
  const later = setTimeout(() => peer!.write(frame.subarray(10)), 250);
  try {
    // The frame's length is known from its first byte on: 20 bytes.
    const got = await readFrame({ transport, frameLength: (b) => Promise.resolve(b.byteLength > 0 ? 20 : 0), clock: systemClock, device: 'slow', maxFrameBytes: 256, byteTimeMs, requestBytes: 8 }, 100);
    return got.byteLength === 20 ? 'frame' : `${got.byteLength} bytes`;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    clearTimeout(later);
    await transport.close();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

test('on a TCP link (no wire time) the timeout is the timeout', async () => {
  assert.equal(await trickle(0), 'WG_ERR_HAL_TIMEOUT');
});

test("on a slow serial line the timeout waits for the answer's bytes to cross the wire", async () => {
  assert.equal(await trickle(20), 'frame');
});
