/**
 * The transport contract (src/hal/transport.ts) as one test suite, run against every implementation
 * with a real peer: TCP loopback, serial over a socat pty pair. UDP, whose datagrams keep their
 * boundaries and which has no peer to hang up, has its own suite (datagram.contract.ts).
 * A kind that cannot show a behaviour (UDP has no refused connection, no peer close) says so through
 * the options, and the test is registered as skipped with that reason; a kind where the contract says
 * less (serial: a lost port loses bytes still in flight) says so too, and the test checks what it says.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWgError, type ErrorCode } from '../../src/host/errors.js';
import type { Transport } from '../../src/hal/transport.js';

/** The other end of the link, driven by the test. */
export interface TransportPeer {
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with exactly `length` bytes received from the transport, or throws after `timeoutMs`. */
  read(length: number, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Ends the link from the peer's side: TCP closes its connection; serial removes the port (the pty
   * pair goes, as an unplugged adapter does), since a serial peer cannot hang up.
   */
  close(): Promise<void>;
}

export interface TransportPair {
  /** Already opened, its peer connected. */
  transport: Transport;
  peer: TransportPeer;
  /** Closes both ends and whatever the pair needed (server, pty). */
  dispose(): Promise<void>;
}

export interface TransportContractOptions {
  /** A transport whose `open()` must fail with WG_ERR_HAL_CONNECT; a string is the reason to skip. */
  unreachable: (() => Transport) | string;
  /** Whether the peer can end the link; a string is the reason it cannot (UDP). */
  peerClose: true | string;
  /**
   * Set, with the reason, when the link's end discards bytes the peer wrote that had not reached the
   * transport yet (serial: they are inside the adapter or the pty that goes away). The test then waits
   * until they have reached it before ending the link; what it checks (received bytes are delivered
   * before the loss) is the same.
   */
  lossDiscardsInFlight?: string;
  /** The device name `makePair` gave the transport, expected in every error's context. */
  device: string;
}

/** Generous bound for any single step over loopback; a test only waits this long when it is failing. */
const STEP_MS = 5_000;

/** A deterministic byte pattern, so a misplaced or lost chunk shows as a content mismatch. */
function pattern(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return bytes;
}

/** Reads from the transport until exactly `length` bytes have come, in as many chunks as it takes. */
async function readExactly(transport: Transport, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const chunk = await transport.read(STEP_MS);
    assert.ok(chunk.byteLength > 0, 'read resolves with at least one byte');
    assert.ok(filled + chunk.byteLength <= length, `got ${filled + chunk.byteLength} bytes, expected ${length}`);
    out.set(chunk, filled);
    filled += chunk.byteLength;
  }
  return out;
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

export function describeTransportContract(
  name: string,
  makePair: (options?: { rxLimitBytes?: number }) => Promise<TransportPair>,
  options: TransportContractOptions,
): void {
  const { device } = options;
  const withPair = (fn: (pair: TransportPair) => Promise<void>, pairOptions?: { rxLimitBytes?: number }) => async () => {
    const pair = await makePair(pairOptions);
    try {
      await fn(pair);
    } finally {
      await pair.dispose();
    }
  };

  describe(`transport contract: ${name}`, () => {
    test('an opened transport writes to and reads from its peer', withPair(async ({ transport, peer }) => {
      assert.equal(transport.isOpen, true);
      const request = Uint8Array.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x02]);
      await transport.write(request);
      assert.deepEqual(await peer.read(request.length, STEP_MS), request);
      const answer = Uint8Array.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x04, 0x12, 0x34, 0x56, 0x78]);
      await peer.write(answer);
      assert.deepEqual(await readExactly(transport, answer.length), answer);
    }));

    test('bytes that arrive while nobody reads are queued, in order, not dropped', withPair(async ({ transport, peer }) => {
      const pieces = [pattern(10, 1), pattern(300, 2), pattern(7, 3)];
      for (const piece of pieces) await peer.write(piece);
      const total = pieces.reduce((n, p) => n + p.length, 0);
      await until(() => transport.queuedBytes === total, `${total} bytes are queued`);
      assert.deepEqual(await readExactly(transport, total), new Uint8Array(Buffer.concat(pieces)));
      assert.equal(transport.queuedBytes, 0);
    }));

    // Regression, issue 6: a device that streamed without being asked grew the queue without limit
    // (45 MB/s, 2.5 GB, the daemon froze). Past rxLimitBytes the link now ends, discarded and counted.
    test('bytes past rxLimitBytes while nobody reads end the link with WG_ERR_HAL_RX_OVERFLOW, discarded and counted', withPair(async ({ transport, peer }) => {
      assert.deepEqual(transport.counters(), { rxOverflows: 0, rxDiscardedBytes: 0 });
      await peer.write(pattern(60, 1));
      await until(() => transport.queuedBytes === 60, '60 bytes are queued (within the limit of 100)');
      await peer.write(pattern(60, 2));
      await until(() => !transport.isOpen, 'the transport ends the link past its limit');
      assert.equal(transport.queuedBytes, 0, 'what was queued is discarded, not kept');
      assert.deepEqual(transport.counters(), { rxOverflows: 1, rxDiscardedBytes: 120 });
      await assert.rejects(transport.read(STEP_MS), (e) => assertHalError(e, 'WG_ERR_HAL_RX_OVERFLOW', device));
      await assert.rejects(transport.write(Uint8Array.of(1)), (e) => assertHalError(e, 'WG_ERR_HAL_RX_OVERFLOW', device));
    }, { rxLimitBytes: 100 }));

    test('a pending read takes bytes as they come, so a long answer read in a loop never counts against the limit', withPair(async ({ transport, peer }) => {
      const answer = pattern(4_000, 6);
      const [, got] = await Promise.all([peer.write(answer), readExactly(transport, answer.length)]);
      assert.deepEqual(got, answer);
      assert.equal(transport.isOpen, true);
      assert.deepEqual(transport.counters(), { rxOverflows: 0, rxDiscardedBytes: 0 });
    }, { rxLimitBytes: 100 }));

    test('the returned buffer belongs to the caller', withPair(async ({ transport, peer }) => {
      await peer.write(Uint8Array.from([1, 2, 3]));
      const first = await readExactly(transport, 3);
      first.fill(0xee);
      await peer.write(Uint8Array.from([4, 5, 6]));
      assert.deepEqual(await readExactly(transport, 3), Uint8Array.from([4, 5, 6]));
    }));

    test('a read with nothing to deliver fails with WG_ERR_HAL_TIMEOUT and the link stays usable', withPair(async ({ transport, peer }) => {
      await assert.rejects(transport.read(20), (e) => assertHalError(e, 'WG_ERR_HAL_TIMEOUT', device));
      assert.equal(transport.isOpen, true);
      await peer.write(Uint8Array.from([0x42]));
      assert.deepEqual(await readExactly(transport, 1), Uint8Array.from([0x42]));
    }));

    test('a large payload split across chunks arrives intact both ways', withPair(async ({ transport, peer }) => {
      const size = 1 << 20; // 1 MiB: far above socket buffers, so the OS must split it
      const down = pattern(size, 5);
      const [, readBack] = await Promise.all([peer.write(down), readExactly(transport, size)]);
      assert.ok(Buffer.from(readBack).equals(Buffer.from(down)), 'peer -> transport payload intact');
      const up = pattern(size, 9);
      const [, atPeer] = await Promise.all([transport.write(up), peer.read(size, STEP_MS)]);
      assert.ok(Buffer.from(atPeer).equals(Buffer.from(up)), 'transport -> peer payload intact');
    }));

    test('closing during a pending read fails it with WG_ERR_HAL_CLOSED', withPair(async ({ transport }) => {
      const pending = assert.rejects(transport.read(Infinity), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await transport.close();
      await pending;
      assert.equal(transport.isOpen, false);
      await assert.rejects(transport.read(STEP_MS), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await assert.rejects(transport.write(Uint8Array.of(1)), (e) => assertHalError(e, 'WG_ERR_HAL_CLOSED', device));
      await transport.close(); // idempotent
    }));

    const peerCloseSkip = options.peerClose === true ? {} : { skip: options.peerClose };

    test('the peer closing fails a pending read with WG_ERR_HAL_LINK_LOST', peerCloseSkip, withPair(async ({ transport, peer }) => {
      const pending = assert.rejects(transport.read(Infinity), (e) => assertHalError(e, 'WG_ERR_HAL_LINK_LOST', device));
      await peer.close();
      await pending;
      assert.equal(transport.isOpen, false);
      await assert.rejects(transport.write(Uint8Array.of(1)), (e) => assertHalError(e, 'WG_ERR_HAL_LINK_LOST', device));
    }));

    test('bytes sent before the peer closed are delivered before WG_ERR_HAL_LINK_LOST', peerCloseSkip, withPair(async ({ transport, peer }) => {
      const last = pattern(64, 4);
      await peer.write(last);
      if (options.lossDiscardsInFlight !== undefined) {
        await until(() => transport.queuedBytes === last.length, `the bytes reached the transport (${options.lossDiscardsInFlight})`);
      }
      await peer.close();
      await until(() => !transport.isOpen, 'the transport notices the link is gone');
      assert.deepEqual(await readExactly(transport, last.length), last);
      await assert.rejects(transport.read(STEP_MS), (e) => assertHalError(e, 'WG_ERR_HAL_LINK_LOST', device));
    }));

    const unreachable = options.unreachable;
    test(
      'open() on an unreachable device fails with WG_ERR_HAL_CONNECT',
      typeof unreachable === 'string' ? { skip: unreachable } : {},
      async () => {
        if (typeof unreachable === 'string') return;
        const transport = unreachable();
        await assert.rejects(transport.open(), (e) => assertHalError(e, 'WG_ERR_HAL_CONNECT', transport.device));
        assert.equal(transport.isOpen, false);
        await assert.rejects(transport.read(STEP_MS), (e) => isWgError(e, 'WG_ERR_HAL_CLOSED'));
        await transport.close();
      },
    );
  });
}
