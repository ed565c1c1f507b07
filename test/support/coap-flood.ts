/**
 * Many CoAP senders at once, for the flood test and the coap-source bench: `senders` UDP sockets
 * (each its own address:port to the server) sending Confirmable or Non-confirmable POSTs as fast as
 * the event loop lets them. The datagrams are built here by hand from RFC 7252 section 3 (not by the
 * codec the server uses): a 4-byte header (version 1, type, token length), the code, a message id,
 * the token, the options by delta (Uri-Path 11, Content-Format 12) and 0xff before the payload.
 * Answers are counted by their code ("2.04", "5.03", ...).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

export interface CoapRequest {
  readonly path: readonly string[];
  readonly payload: Uint8Array;
  /** Content-Format number; none when undefined. */
  readonly format?: number;
  readonly confirmable?: boolean;
  /** POST (2) by default. */
  readonly code?: number;
}

function option(delta: number, value: Uint8Array): number[] {
  // Deltas and lengths below 13 fit the nibbles; the 13 extension covers what a test sends.
  const nibble = (n: number) => (n < 13 ? [n, []] : [13, [n - 13]]) as [number, number[]];
  const [d, dx] = nibble(delta);
  const [l, lx] = nibble(value.byteLength);
  return [(d << 4) | l, ...dx, ...lx, ...value];
}

export function coapDatagram(request: CoapRequest, messageId: number, token: number): Uint8Array {
  const type = request.confirmable === false ? 1 : 0;
  const bytes = [0x40 | (type << 4) | 2, request.code ?? 2, (messageId >> 8) & 0xff, messageId & 0xff, (token >> 8) & 0xff, token & 0xff];
  let last = 0;
  for (const segment of request.path) {
    bytes.push(...option(11 - last, new TextEncoder().encode(segment)));
    last = 11;
  }
  if (request.format !== undefined) bytes.push(...option(12 - last, request.format === 0 ? new Uint8Array(0) : Uint8Array.of(request.format)));
  if (request.payload.byteLength > 0) bytes.push(0xff, ...request.payload);
  return Uint8Array.from(bytes);
}

export interface FloodResult {
  readonly sent: number;
  /** Answers by code, "2.04", "5.03", "4.04". */
  readonly answers: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

export interface Flood {
  /** Sends `perSender` requests from each sender (`pick(i)` chooses the i-th one's request); resolves when all are handed to the OS. */
  run(perSender: number, pick: (i: number) => CoapRequest): Promise<FloodResult>;
  answers(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export async function startFlood(host: string, port: number, senders: number): Promise<Flood> {
  const answers: Record<string, number> = {};
  const sockets: Socket[] = [];
  for (let i = 0; i < senders; i++) {
    const s = createSocket('udp4');
    s.on('message', (m: Buffer) => {
      if (m.byteLength < 4) return;
      const code = `${m[1]! >> 5}.${String(m[1]! & 31).padStart(2, '0')}`;
      answers[code] = (answers[code] ?? 0) + 1;
    });
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    sockets.push(s);
  }
  let messageId = 0;
  return {
    async run(perSender, pick) {
      const start = performance.now();
      let sent = 0;
      for (let round = 0; round < perSender; round++) {
        await Promise.all(sockets.map((s, k) => new Promise<void>((resolve) => {
          const i = round * sockets.length + k;
          messageId = (messageId + 1) & 0xffff;
          s.send(coapDatagram(pick(i), messageId, i & 0xffff), port, host, () => resolve());
          sent++;
        })));
        // Let this process's own I/O in (the answers, a test's MQTT subscriber) between rounds: sends
        // alone would keep the event loop from polling for what arrives.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { sent, answers: { ...answers }, elapsedMs: performance.now() - start };
    },
    answers: () => ({ ...answers }),
    async close() {
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
