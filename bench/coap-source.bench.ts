/**
 * The coap_server source: requests per second that senders on loopback get into the chain (POSTs of a
 * two-point JSON body, each answered 2.04 once in the ingress ring; coap_server -> payload -> json,
 * into memory), with 16 and 64 senders each keeping one Confirmable request outstanding (senders in a
 * process of their own), and the gateway process's RSS while it runs. The source's rate limit is set
 * far above what loopback reaches, so the figure is the server's and the chain's, not the bucket's.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { printMachine, emitResult } from './machine.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';

const WINDOW_MS = 4_000;
const WARMUP_MS = 1_000;

function pipeline(port: number): string {
  return `pipeline: { name: bench }
source:
  coap_server:
    bind: 127.0.0.1
    port: ${port}
    rate: 1000000
    burst: 1000000
    queue: 4096
    devices:
      - name: room1
        resource: rooms/1
        points: [ { name: temp }, { name: hum } ]
steps:
  - plugin: payload
  - plugin: json
publish: { uplink: cloud, topic: "r/{device}/{point}" }
`;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

async function requestsPerSecond(senders: number): Promise<{ rate: number; answered: number; rssMiB: number; published: number }> {
  const port = await freeUdpPort();
  const run = await startCapturedPipeline(pipeline(port));
  // The capture sink keeps what it is given; emptied every 100 ms so RSS is the gateway's, not the capture's.
  const drain = setInterval(() => (run.sink.messages.length = 0), 100);
  try {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./coap-sender-process.js', import.meta.url)), String(port), String(senders), String(WARMUP_MS + WINDOW_MS + 500)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const source = () => run.pipeline.status().pushSources[0]!;
    const before = source().accepted;
    const publishedBefore = run.pipeline.status().published;
    const t0 = performance.now();
    let rss = 0;
    for (let t = 0; t < WINDOW_MS; t += 500) {
      await new Promise((r) => setTimeout(r, 500));
      rss = Math.max(rss, process.memoryUsage().rss);
    }
    const elapsed = performance.now() - t0;
    const accepted = source().accepted - before;
    const published = run.pipeline.status().published - publishedBefore;
    await once(child, 'exit');
    const result = JSON.parse(out) as { answers: Record<string, number>; sent: number };
    const refused = Object.entries(source().refused).filter(([, n]) => n > 0);
    if (refused.length > 0) console.log(`  (${senders} senders: refused ${JSON.stringify(Object.fromEntries(refused))})`);
    return { rate: (accepted * 1000) / elapsed, answered: result.answers['2.04'] ?? 0, rssMiB: rss / 2 ** 20, published: (published * 1000) / elapsed };
  } finally {
    clearInterval(drain);
    await run.stop();
  }
}

printMachine();
for (const senders of [16, 64]) {
  const { rate, rssMiB, published } = await requestsPerSecond(senders);
  emitResult(`CoAP source requests/s into the chain, ${senders} senders with one CON POST outstanding each (loopback)`, rate, 'requests/s');
  emitResult(`messages/s out of the chain at the same time, ${senders} senders (two points a request)`, published, 'messages/s');
  emitResult(`RSS while serving ${senders} senders`, rssMiB, 'MiB');
}
