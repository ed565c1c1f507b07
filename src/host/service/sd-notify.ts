/**
 * The service manager's notification protocol (sd_notify(3)): newline-separated `KEY=VALUE` lines in
 * one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET. Only when systemd set that variable
 * (Type=notify); a daemon run by hand has no socket and sends nothing.
 *
 * Node has no Unix datagram sockets, so the send is unix-dgram's (a small native addon built from
 * source with node-gyp, like better-sqlite3). It runs in the daemon's own process, which is what
 * NotifyAccess=main accepts; spawning systemd-notify instead would need NotifyAccess=all and cost a
 * fork of the whole daemon per ping (measured in docs/service.md: ~38 ms and ~4.5 ms of the daemon's
 * CPU per ping against ~30 µs here).
 */
import { createRequire } from 'node:module';
import { WgError } from '../errors.js';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error & { code?: number }) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

/** Something a notification can be sent to: the real socket, or nothing (no NOTIFY_SOCKET). */
export interface ServiceNotifier {
  /** The socket's path, for logs; undefined when there is none. */
  readonly socket: string | undefined;
  /** Sends `fields` (`READY=1`, `WATCHDOG=1`, `STATUS=...`) in one datagram; rejects with WG_ERR_SERVICE_NOTIFY. */
  notify(...fields: string[]): Promise<void>;
  close(): void;
}

const NO_NOTIFIER: ServiceNotifier = { socket: undefined, notify: async () => undefined, close: () => undefined };

/**
 * The notifier $NOTIFY_SOCKET asks for. An abstract socket (`@name`), which systemd uses only for
 * some containers, is refused with WG_ERR_SERVICE_NOTIFY: unix-dgram binds paths only.
 */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceNotifier {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return NO_NOTIFIER;
  if (socket.startsWith('@')) throw new WgError('WG_ERR_SERVICE_NOTIFY', { socket, detail: 'abstract socket addresses are not supported; the system manager uses a path (/run/systemd/notify)' });
  const unix = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  const dgram = unix.createSocket('unix_dgram');
  // Errors are reported through send's callback; this keeps an 'error' event from ending the process.
  dgram.on('error', () => undefined);
  return {
    socket,
    notify(...fields) {
      const message = Buffer.from(fields.join('\n'));
      return new Promise((resolve, reject) => {
        dgram.send(message, 0, message.length, socket, (err) => {
          if (!err) return resolve();
          // unix-dgram reports a full receive queue as code 1 ("congestion") and errors as -errno.
          const detail = err.code === 1 ? 'the receive queue is full' : `${err.message} (errno ${-(err.code ?? 0)})`;
          reject(new WgError('WG_ERR_SERVICE_NOTIFY', { socket, detail }, { cause: err }));
        });
      });
    },
    close: () => dgram.close(),
  };
}
