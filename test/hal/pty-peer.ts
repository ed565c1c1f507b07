/**
 * The far end of a serial transport under test: the other pty of a socat pair (test/support/pty-pair.ts),
 * opened as a plain tty by Node, not through serialport, so the peer is not the code under test.
 *
 * Its `close()` stops socat: a serial line has no peer that can hang up (a slave switched off is only
 * silence), and the one way the link is lost is the port itself going away, which is what stopping
 * socat does to the port under test.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { PtyPair } from '../support/pty-pair.js';
import { streamPeer } from './stream-peer.js';
import type { TransportPeer } from './transport.contract.js';

export interface PtyPeer extends TransportPeer {
  /** Lets go of the peer's tty (socat keeps running). */
  release(): void;
}

export function ptyPeer(pair: PtyPair): PtyPeer {
  const fd = openSync(pair.peerPath, constants.O_RDWR | constants.O_NOCTTY);
  // A tty stream reads and writes through libuv without blocking a thread, unlike fs streams on a tty.
  const stream = new ReadStream(fd);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    stream.destroy();
    closeSync(fd); // libuv reopened the tty for its handle; this one is still ours
  };
  const peer = streamPeer(stream, {
    close: async () => {
      await pair.stop();
      release();
    },
  });
  return { ...peer, release };
}
