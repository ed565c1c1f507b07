/**
 * A TCP relay in front of a real broker that misbehaves on demand, as a dead 4G link or a middlebox
 * does: `refuse` closes new connections at once; `stall` keeps the connection and drops what the
 * broker sends (no CONNACK, no PUBACK); `holdAcks` does the same but lets a chunk that begins with a
 * CONNACK through (over loopback mosquitto writes it alone), so a connection comes up and hears no
 * PUBACK; `cutOnPublish` closes the connection, unforwarded, when the
 * client sends an MQTT PUBLISH after its CONNECT (a chunk whose first byte's high nibble is 3: over
 * loopback a write arrives as one chunk, and the sink's writes begin at a packet's start, which is what
 * the relay relies on). `sent` keeps every byte the client sent, per connection; `cut` closes the
 * connections there are now.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  readonly url: string;
  refuse: boolean;
  stall: boolean;
  holdAcks: boolean;
  cutOnPublish: boolean;
  /** Connections closed by `cutOnPublish` so far. */
  readonly cuts: number;
  /** What the client sent on each connection, in order. */
  readonly sent: Buffer[][];
  cut(): void;
  close(): Promise<void>;
}

export async function relayTo(port: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const state = { refuse: false, stall: false, holdAcks: false, cutOnPublish: false, cuts: 0, sent: [] as Buffer[][] };
  const server = createServer((client) => {
    sockets.add(client);
    if (state.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    sockets.add(upstream);
    let first = true;
    const sent: Buffer[] = [];
    state.sent.push(sent);
    client.on('data', (chunk) => {
      sent.push(chunk);
      if (!first && state.cutOnPublish && chunk[0]! >> 4 === 3) {
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      first = false;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!state.stall && (!state.holdAcks || chunk[0] === 0x20)) client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return Object.assign(state, {
    url: `mqtt://127.0.0.1:${address.port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
