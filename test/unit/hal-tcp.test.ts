// The TCP transport against the transport contract, over loopback with a real net.Server as the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tcpTransport } from '../../src/hal/tcp.js';
import { describeTransportContract, type TransportPair } from '../hal/transport.contract.js';
import { streamPeer } from '../hal/stream-peer.js';

const DEVICE = 'plc-loopback';

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function makePair(options: { rxLimitBytes?: number } = {}): Promise<TransportPair> {
  const { server, port } = await listen();
  const transport = tcpTransport({ device: DEVICE, host: '127.0.0.1', port, connectTimeoutMs: 5_000, ...options });
  const [[socket]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, transport.open()]);
  return {
    transport,
    peer: streamPeer(socket),
    async dispose() {
      await transport.close();
      socket.destroy();
      await closeServer(server);
    },
  };
}

/** A loopback port nobody listens on: bound, read back, released. */
async function refusedPort(): Promise<number> {
  const { server, port } = await listen();
  await closeServer(server);
  return port;
}

const closedPort = await refusedPort();

describeTransportContract('tcp', makePair, {
  device: DEVICE,
  peerClose: true,
  unreachable: () =>
    tcpTransport({ device: 'plc-absent', host: '127.0.0.1', port: closedPort, connectTimeoutMs: 5_000 }),
});

test('tcp: after the link is lost, open() re-establishes it with an empty queue', async () => {
  const { server, port } = await listen();
  const transport = tcpTransport({ device: DEVICE, host: '127.0.0.1', port, connectTimeoutMs: 5_000 });
  try {
    const [[first]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, transport.open()]);
    const pending = assert.rejects(transport.read(Infinity), { code: 'WG_ERR_HAL_LINK_LOST' });
    first.destroy();
    await pending;

    const [[second]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, transport.open()]);
    assert.equal(transport.isOpen, true);
    assert.equal(transport.queuedBytes, 0);
    const peer = streamPeer(second);
    await transport.write(Uint8Array.from([7, 8, 9]));
    assert.deepEqual(await peer.read(3, 5_000), Uint8Array.from([7, 8, 9]));
    second.destroy();
  } finally {
    await transport.close();
    await closeServer(server);
  }
});

test('tcp: open() on an open transport fails with WG_ERR_HAL_CONNECT and leaves the link up', async () => {
  const pair = await makePair();
  try {
    await assert.rejects(pair.transport.open(), { code: 'WG_ERR_HAL_CONNECT' });
    assert.equal(pair.transport.isOpen, true);
  } finally {
    await pair.dispose();
  }
});
