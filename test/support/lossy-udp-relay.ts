/**
 * A UDP relay between a client and a server that drops a share of the client's datagrams, so a test
 * can lose packets in the direction a server's own loss option does not cover (libcoap's `coap-server
 * -l` drops only what the server sends). The share is exact and the choice random: of every `1/loss`
 * datagrams (5 for 20 %), one picked by `random` is dropped, so a short test loses some for certain
 * and never a run of more than two in a row. Each client address gets its own socket towards the
 * server, so the server's answers find their way back; those are forwarded as they come.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

export interface LossyUdpRelay {
  readonly port: number;
  /** Client datagrams forwarded, and dropped, so far. */
  readonly counts: { forwarded: number; dropped: number };
  close(): Promise<void>;
}

export async function startLossyUdpRelay(server: { host: string; port: number }, loss: number, random: () => number): Promise<LossyUdpRelay> {
  const front = createSocket('udp4');
  front.bind(0, '127.0.0.1');
  await once(front, 'listening');
  const counts = { forwarded: 0, dropped: 0 };
  const upstreams = new Map<string, Socket>();
  const group = Math.round(1 / loss);
  let inGroup = 0;
  let victim = Math.floor(random() * group);
  const upstreamOf = (client: RemoteInfo): Socket => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      upstream = createSocket('udp4');
      upstream.on('message', (answer) => front.send(answer, client.port, client.address));
      upstream.bind(0, '127.0.0.1');
      upstreams.set(key, upstream);
    }
    return upstream;
  };
  front.on('message', (datagram, client) => {
    const drop = inGroup === victim;
    if (++inGroup === group) {
      inGroup = 0;
      victim = Math.floor(random() * group);
    }
    if (drop) {
      counts.dropped++;
      return;
    }
    counts.forwarded++;
    upstreamOf(client).send(datagram, server.port, server.host);
  });
  return {
    port: front.address().port,
    counts,
    close: async () => {
      for (const upstream of upstreams.values()) upstream.close();
      front.close();
    },
  };
}
