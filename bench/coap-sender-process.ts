/**
 * CoAP senders in a process of their own, so that a benchmark measures the gateway, not senders
 * sharing its thread: `senders` UDP sockets, each with one Confirmable POST outstanding at a time (a
 * closed loop: the next request goes when the answer came, or after 1 s without one), for `ms`
 * milliseconds. Prints `{"answers":{"2.04":n,...},"sent":n}` on stdout at the end.
 * Usage: coap-sender-process.js PORT SENDERS MS
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { coapDatagram } from '../test/support/coap-flood.js';

const [port, senders, ms] = process.argv.slice(2).map(Number) as [number, number, number];
const answers: Record<string, number> = {};
let sent = 0;
let messageId = 0;
let running = true;
const sockets: Socket[] = [];

function send(s: Socket, i: number): void {
  if (!running) return;
  messageId = (messageId + 1) & 0xffff;
  const body = new TextEncoder().encode(`{"temp": ${(i % 1000) / 10}, "hum": ${i % 100}}`);
  s.send(coapDatagram({ path: ['rooms', '1'], payload: body, format: 50 }, messageId, i & 0xffff), port, '127.0.0.1');
  sent++;
}

for (let k = 0; k < senders; k++) {
  const s = createSocket('udp4');
  let i = k;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    clearTimeout(timer);
    i += senders;
    send(s, i);
    timer = setTimeout(next, 1000);
  };
  s.on('message', (m: Buffer) => {
    const code = `${m[1]! >> 5}.${String(m[1]! & 31).padStart(2, '0')}`;
    answers[code] = (answers[code] ?? 0) + 1;
    next();
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  sockets.push(s);
  next();
}
setTimeout(() => {
  running = false;
  process.stdout.write(`${JSON.stringify({ answers, sent })}\n`);
  for (const s of sockets) s.close();
  process.exit(0);
}, ms);
