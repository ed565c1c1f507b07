/**
 * aedes as a test peer, embedded in the test process on a loopback port picked by the OS. `stop()`
 * closes the listener and drops every connection but keeps the broker instance, so persistent sessions
 * survive as they would across a restart of a broker with persistence.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import type { TestBroker, TestBrokerOptions } from './test-broker.js';

/** CONNACK return code 4, "bad user name or password" (MQTT 3.1.1 §3.2.2.3). */
const BAD_USERNAME_OR_PASSWORD = 4;

export async function startAedes(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const users = options.users;
  const broker = await Aedes.createBroker(
    users
      ? {
          authenticate(_client, username, password, done) {
            const ok = username !== undefined && users[username] !== undefined && password?.toString() === users[username];
            if (ok) return done(null, true);
            const error = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD });
            done(error as AuthenticateError, null);
          },
        }
      : {},
  );
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });

  const listen = async (port: number): Promise<number> => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const port = await listen(0);
  return {
    kind: 'aedes',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    start: async () => {
      await listen(port);
    },
    async dispose() {
      await stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
