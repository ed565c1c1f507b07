// The UDP transport against the datagram contract, over loopback with a real dgram socket as the
// device; then what only a connectionless link does: a listener, sendTo, broadcast, strangers filtered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import { udpTransport } from '../../src/hal/udp.js';
import { isWgError } from '../../src/host/errors.js';
import { describeDatagramContract, type DatagramPair, type DatagramPeer } from '../hal/datagram.contract.js';

const DEVICE = 'bacnet-loopback';

/** A socket of the test's own on a free loopback port, with its received datagrams queued. */
async function socketPeer(bind: { address?: string; port?: number } = {}): Promise<DatagramPeer & { socket: Socket; close(): Promise<void>; to(host: string, port: number): void }> {
  const socket = createSocket('udp4');
  const received: Uint8Array[] = [];
  const waiters: Array<(d: Uint8Array) => void> = [];
  socket.on('message', (d: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter(new Uint8Array(d));
    else received.push(new Uint8Array(d));
  });
  socket.bind(bind.port ?? 0, bind.address ?? '127.0.0.1');
  await once(socket, 'listening');
  const { address, port } = socket.address();
  let target: { host: string; port: number } | undefined;
  return {
    socket,
    address,
    port,
    to(host, port) {
      target = { host, port };
    },
    send(bytes) {
      return new Promise((resolve, reject) => socket.send(bytes, target!.port, target!.host, (e) => (e ? reject(e) : resolve())));
    },
    next(timeoutMs) {
      const queued = received.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer received nothing within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((d) => {
          clearTimeout(timer);
          resolve(d);
        });
      });
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

async function makePair(options: { rxLimitBytes?: number } = {}): Promise<DatagramPair> {
  const peer = await socketPeer();
  const transport = udpTransport({ device: DEVICE, host: '127.0.0.1', port: peer.port, bindAddress: '127.0.0.1', connectTimeoutMs: 5_000, ...options });
  await transport.open();
  peer.to('127.0.0.1', transport.local!.port);
  return {
    transport,
    peer,
    async dispose() {
      await transport.close();
      await peer.close();
    },
  };
}

/** A loopback port nobody holds: bound, read back, released. */
async function freePort(): Promise<number> {
  const s = await socketPeer();
  await s.close();
  return s.port;
}

describeDatagramContract('udp', makePair, {
  device: DEVICE,
  async unbindable() {
    const holder = await socketPeer();
    return { transport: udpTransport({ device: 'bacnet-taken', bindAddress: '127.0.0.1', bindPort: holder.port, connectTimeoutMs: 5_000 }), dispose: () => holder.close() };
  },
  async absentPeer() {
    const port = await freePort();
    const transport = udpTransport({ device: 'bacnet-absent', host: '127.0.0.1', port, bindAddress: '127.0.0.1', connectTimeoutMs: 5_000 });
    await transport.open();
    let peer: Awaited<ReturnType<typeof socketPeer>> | undefined;
    return {
      transport,
      async appear() {
        peer = await socketPeer({ port });
        peer.to('127.0.0.1', transport.local!.port);
        return peer;
      },
      dispose: async () => peer?.close(),
    };
  },
});

test('udp: a connected link takes only its peer\'s datagrams; a stranger\'s never reach a read', async () => {
  const { transport, peer, dispose } = await makePair();
  const stranger = await socketPeer();
  try {
    stranger.to('127.0.0.1', transport.local!.port);
    await stranger.send(Uint8Array.of(0xbb));
    await peer.send(Uint8Array.of(0xaa));
    assert.deepEqual(await transport.read(5_000), Uint8Array.of(0xaa));
    await assert.rejects(transport.read(100), (e) => isWgError(e, 'WG_ERR_HAL_TIMEOUT'));
  } finally {
    await stranger.close();
    await dispose();
  }
});

test('udp: a listener sends with sendTo, says who sent each datagram, and refuses write() with WG_ERR_HAL_SEND', async () => {
  const listener = udpTransport({ device: 'bacnet-scan', bindAddress: '127.0.0.1', connectTimeoutMs: 5_000 });
  await listener.open();
  const a = await socketPeer();
  const b = await socketPeer();
  try {
    await listener.sendTo(Uint8Array.of(1), '127.0.0.1', a.port);
    await listener.sendTo(Uint8Array.of(2), '127.0.0.1', b.port);
    assert.deepEqual(await a.next(5_000), Uint8Array.of(1));
    assert.deepEqual(await b.next(5_000), Uint8Array.of(2));
    b.to('127.0.0.1', listener.local!.port);
    a.to('127.0.0.1', listener.local!.port);
    await b.send(Uint8Array.of(0x0b));
    const first = await listener.receive(5_000);
    await a.send(Uint8Array.of(0x0a));
    const second = await listener.receive(5_000);
    assert.deepEqual([first.port, [...first.bytes]], [b.port, [0x0b]]);
    assert.deepEqual([second.port, [...second.bytes]], [a.port, [0x0a]]);
    await assert.rejects(listener.write(Uint8Array.of(3)), (e) => isWgError(e, 'WG_ERR_HAL_SEND'));
    assert.equal(listener.isOpen, true);
  } finally {
    await a.close();
    await b.close();
    await listener.close();
  }
});

test('udp: a broadcast needs broadcast: true; without it the OS refuses (WG_ERR_HAL_SEND) and the link stays open', async () => {
  // A device listening on every address, as BACnet devices do on 47808, hears 255.255.255.255.
  const device = await socketPeer({ address: '0.0.0.0' });
  const quiet = udpTransport({ device: 'bacnet-no-broadcast', connectTimeoutMs: 5_000 });
  const loud = udpTransport({ device: 'bacnet-broadcast', broadcast: true, connectTimeoutMs: 5_000 });
  await quiet.open();
  await loud.open();
  try {
    await assert.rejects(quiet.sendTo(Uint8Array.of(1), '255.255.255.255', device.port), (e) => {
      assert.ok(isWgError(e, 'WG_ERR_HAL_SEND'));
      assert.match(String(e.context.detail), /255\.255\.255\.255:\d+: .*EACCES/);
      return true;
    });
    assert.equal(quiet.isOpen, true);
    await loud.sendTo(Uint8Array.of(2), '255.255.255.255', device.port);
    assert.deepEqual(await device.next(5_000), Uint8Array.of(2));
  } finally {
    await quiet.close();
    await loud.close();
    await device.close();
  }
});

test('udp: a peer needs both host and port', () => {
  assert.throws(() => udpTransport({ device: 'x', host: '127.0.0.1', connectTimeoutMs: 1 }), TypeError);
});
