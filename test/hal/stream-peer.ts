/**
 * The far end of a transport under test, seen through a Node stream: the accepted socket of a TCP
 * server, or the other tty of a socat pty pair (pty-peer.ts). It buffers everything it receives from the
 * moment it is made, so a test can ask for an exact number of bytes however the OS split them.
 *
 * How the peer ends the link depends on the link: a TCP peer ends its stream (FIN); a serial link has
 * no such thing, so pty-peer.ts passes its own `close`.
 */
import type { Duplex } from 'node:stream';
import type { TransportPeer } from './transport.contract.js';

export interface StreamPeerOptions {
  /** How the peer ends the link (default: end the stream and wait until it is closed). */
  close?: () => Promise<void>;
}

export function streamPeer(stream: Duplex, options: StreamPeerOptions = {}): TransportPeer {
  let received = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | undefined;
  stream.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake?.();
  });
  stream.on('close', () => {
    ended = true;
    wake?.();
  });
  stream.on('error', () => {
    /* the contract tests break links on purpose; 'close' follows */
  });

  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => stream.write(bytes, (error) => (error ? reject(error) : resolve()))),

    async read(length, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < length) {
        if (ended) throw new Error(`peer stream closed after ${received.length} of ${length} bytes`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`peer got ${received.length} of ${length} bytes within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      const bytes = received.subarray(0, length);
      received = received.subarray(length);
      return new Uint8Array(bytes);
    },

    close: options.close ?? (() =>
      new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve();
        stream.once('close', () => resolve());
        stream.end();
      })),
  };
}
