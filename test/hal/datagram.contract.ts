/**
 * The datagram link contract (src/hal/transport.ts, `DatagramTransport`) as one test suite, for every
 * implementation with a real peer: UDP over loopback now. Where the stream suite (transport.contract.ts)
 * speaks of bytes and a peer that hangs up, this one speaks of datagrams, which keep their boundaries,
 * and of a peer that is simply not there, which is silence and never a lost link.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWgError, type ErrorCode } from '../../src/host/errors.js';
import type { DatagramTransport } from '../../src/hal/transport.js';

/** The device's end, driven by the test: a socket of its own. */
export interface DatagramPeer {
  /** Where the peer listens. */
  readonly address: string;
  readonly port: number;
  /** Sends one datagram to the transport. */
  send(bytes: Uint8Array): Promise<void>;
  /** The next datagram the peer received, or throws after `timeoutMs`. */
  next(timeoutMs: number): Promise<Uint8Array>;
}

export interface DatagramPair {
  /** Already opened, connected to `peer`. */
  transport: DatagramTransport;
  peer: DatagramPeer;
  dispose(): Promise<void>;
}

export interface DatagramContractOptions {
  device: string;
  /** A transport whose open() must fail with WG_ERR_HAL_CONNECT (it binds what another socket holds). */
  unbindable: () => Promise<{ transport: DatagramTransport; dispose(): Promise<void> }>;
  /** An opened transport whose peer is not there (nobody holds its port), and the way to bring a peer there. */
  absentPeer: () => Promise<{ transport: DatagramTransport; appear(): Promise<DatagramPeer>; dispose(): Promise<void> }>;
}

/** Generous bound for one step over loopback; only a failing test waits this long. */
const STEP_MS = 5_000;

function pattern(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function assertHalError(error: unknown, code: ErrorCode, device: string): true {
  assert.ok(isWgError(error, code), `expected ${code}, got ${String(error)}`);
  assert.equal(error.context.device, device);
  return true;
}

export function describeDatagramContract(name: string, makePair: (options?: { rxLimitBytes?: number }) => Promise<DatagramPair>, options: DatagramContractOptions): void {
  const { device } = options;
  const withPair = (fn: (pair: DatagramPair) => Promise<void>, pairOptions?: { rxLimitBytes?: number }) => async () => {
    const pair = await makePair(pairOptions);
    try {
      await fn(pair);
    } finally {
      await pair.dispose();
    }
  };

  describe(`datagram contract: ${name}`, () => {
    test('one write is one datagram at the peer, and one datagram from the peer is one read', withPair(async ({ transport, peer }) => {
      assert.equal(transport.isOpen, true);
      const whoIs = Uint8Array.from([0x81, 0x0b, 0x00, 0x08, 0x01, 0x20, 0x10, 0x08]);
      await transport.write(whoIs);
      assert.deepEqual(await peer.next(STEP_MS), whoIs);
      const first = pattern(3, 1);
      const second = pattern(5, 2);
      await peer.send(first);
      await peer.send(second);
      await until(() => transport.queuedBytes === 8, 'both datagrams are queued');
      assert.deepEqual(await transport.read(STEP_MS), first, 'the first read is exactly the first datagram');
      assert.deepEqual(await transport.read(STEP_MS), second, 'boundaries are kept: the second read is the second datagram');
    }));

    test('datagrams that arrive while nobody reads are queued in order, and receive() names their sender', withPair(async ({ transport, peer }) => {
      const datagrams = [pattern(10, 1), pattern(1_400, 2), pattern(7, 3)];
      for (const d of datagrams) await peer.send(d);
      await until(() => transport.queuedBytes === 1_417, 'all three are queued');
      for (const d of datagrams) {
        const got = await transport.receive(STEP_MS);
        assert.deepEqual(got.bytes, d);
        assert.equal(got.port, peer.port);
        assert.equal(got.address, peer.address);
      }
      assert.equal(transport.queuedBytes, 0);
    }));

    test('datagrams past rxLimitBytes while nobody reads end the link with WG_ERR_HAL_RX_OVERFLOW, discarded and counted', withPair(async ({ transport, peer }) => {
      await peer.send(pattern(60, 1));
      await until(() => transport.queuedBytes === 60, '60 bytes are queued (within the limit of 100)');
      await peer.send(pattern(60, 2));
      await until(() => !transport.isOpen, 'the transport ends the link past its limit');
      assert.equal(transport.queuedBytes, 0);
      assert.deepEqual(transport.counters(), { rxOverflows: 1, rxDiscardedBytes: 120 });
      await assert.rejects(transport.read(STEP_MS), (e) => assertHalError(e, 'WG_ERR_HAL_RX_OVERFLOW', device));
      await assert.rejects(transport.write(Uint8Array.of(1)), (e) => assertHalError(e, 'WG_ERR_HAL_RX_OVERFLOW', device));
    }, { rxLimitBytes: 100 }));

    test('the returned buffer belongs to the caller', withPair(async ({ transport, peer }) => {
      await peer.send(Uint8Array.from([1, 2, 3]));
      (await transport.read(STEP_MS)).fill(0xee);
      await peer.send(Uint8Array.from([4, 5, 6]));
      assert.deepEqual(await transport.read(STEP_MS), Uint8Array.from([4, 5, 6]));
    }));

    test('a read with nothing to deliver fails with WG_ERR_HAL_TIMEOUT and the link stays usable', withPair(async ({ transport, peer }) => {
      await assert.rejects(transport.read(20), (e) => assertHalError(e, 'WG_ERR_HAL_TIMEOUT', device));
      assert.equal(transport.isOpen, true);
      await peer.send(Uint8Array.of(0x42));
      assert.deepEqual(await transport.read(STEP_MS), Uint8Array.of(0x42));
    }));

    test('closing during a pending read fails it with WG_ERR_HAL_CLOSED; close is idempotent', withPair(async ({ transport }) => {
      const pending = assert.rejects(transport.read(Infinity), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await transport.close();
      await pending;
      assert.equal(transport.isOpen, false);
      assert.equal(transport.local, undefined);
      await assert.rejects(transport.read(STEP_MS), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await assert.rejects(transport.write(Uint8Array.of(1)), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await transport.close();
    }));

    test('after close, open() binds again with an empty queue', withPair(async ({ transport, peer }) => {
      await peer.send(pattern(9, 4));
      await until(() => transport.queuedBytes === 9, 'the datagram is queued');
      await transport.close();
      await transport.open();
      assert.equal(transport.queuedBytes, 0, 'what was queued before the close is gone');
      await transport.write(Uint8Array.of(7));
      assert.deepEqual(await peer.next(STEP_MS), Uint8Array.of(7));
    }));

    test('open() on a port another socket holds fails with WG_ERR_HAL_CONNECT', async () => {
      const { transport, dispose } = await options.unbindable();
      try {
        await assert.rejects(transport.open(), (e) => assertHalError(e, 'WG_ERR_HAL_CONNECT', transport.device));
        assert.equal(transport.isOpen, false);
        await assert.rejects(transport.read(STEP_MS), (e) => isWgError(e, 'WG_ERR_HAL_CLOSED'));
      } finally {
        await transport.close();
        await dispose();
      }
    });

    test('a peer that is not there is silence, not a lost link: the link stays open and works once it appears', async () => {
      const { transport, appear, dispose } = await options.absentPeer();
      try {
        await transport.write(Uint8Array.of(1)); // the OS answers with ICMP port unreachable
        await assert.rejects(transport.read(200), (e) => assertHalError(e, 'WG_ERR_HAL_TIMEOUT', transport.device));
        await transport.write(Uint8Array.of(2));
        await assert.rejects(transport.read(200), (e) => assertHalError(e, 'WG_ERR_HAL_TIMEOUT', transport.device));
        assert.equal(transport.isOpen, true, 'an unreachable port does not end the link');
        const peer = await appear();
        await transport.write(Uint8Array.of(3));
        assert.deepEqual(await peer.next(STEP_MS), Uint8Array.of(3));
        await peer.send(Uint8Array.of(4));
        assert.deepEqual(await transport.read(STEP_MS), Uint8Array.of(4));
      } finally {
        await transport.close();
        await dispose();
      }
    });
  });
}
