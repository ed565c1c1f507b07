/**
 * A small in-process MQTT broker (aedes) for the zero-setup demo: when nothing answers on the
 * configured broker address, the demo starts this one there so the gateway has somewhere to publish
 * and a subscriber has somewhere to listen. Not meant for production uplinks: no auth, no TLS, no
 * persistence across restarts.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { WgError } from '../errors.js';

export interface EmbeddedBrokerOptions {
  /** Address to listen on, e.g. 127.0.0.1. */
  readonly host: string;
  /** TCP port; 0 lets the OS pick one (read it back from the result). */
  readonly port: number;
}

export interface EmbeddedBroker {
  /** The port actually bound. */
  readonly port: number;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Rejects with `WG_ERR_UPLINK_BROKER_LISTEN` when the address cannot be bound (in use, not local). */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve()));
  try {
    server.listen(options.port, options.host);
    await once(server, 'listening');
  } catch (cause) {
    await closeBroker();
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new WgError('WG_ERR_UPLINK_BROKER_LISTEN', { detail: `${options.host}:${options.port}: ${reason}` }, { cause });
  }

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await Promise.all([stopped, closeBroker()]);
      })();
      return closing;
    },
  };
}
