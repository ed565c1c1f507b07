/**
 * BACnet COV notifications into the chain: one pushing device (@bacnet-js/client in a process of its
 * own, bench/bacnet-notifier-process.ts) subscribed to by the gateway for 4 analog inputs, sending
 * notifications (Present_Value and Status_Flags: two samples each) as fast as it can, unconfirmed and
 * then confirmed (each acknowledged by the gateway's Simple-ACK, built by the decoder in the pipeline
 * worker once the notification is in the ingress ring). Figures: notifications the gateway took into
 * its ingress ring per second, messages out of the chain (bacnet -> json, into memory) per second,
 * what share of what the device sent arrived (UDP drops what the gateway's socket buffer cannot hold),
 * confirmed notifications acknowledged per second, and the process's RSS. The device is never polled
 * (interval 1h) after it accepted the subscriptions. The confirmed figure swings with the machine's
 * load: a notification lost on the way (UDP, a busy receiver) holds one of the device's 64 slots for
 * bacnet-js's APDU timeout (2 s), so a run with losses stalls; what the gateway dropped or did not
 * acknowledge is printed with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { printMachine, emitResult } from './machine.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';

const OBJECTS = 4;
const WINDOW_MS = 4_000;
const WARMUP_MS = 1_000;

function pipeline(port: number, confirmed: boolean): string {
  const points = Array.from({ length: OBJECTS }, (_, i) => `          - { name: ai${i}, object_type: analog-input, instance: ${i} }\n          - { name: ai${i}.flags, object_type: analog-input, instance: ${i}, property: status-flags }`);
  return `pipeline: { name: bench }
source:
  bacnet_ip:
    devices:
      - name: pusher
        host: 127.0.0.1
        port: ${port}
        device_instance: 1
        interval: 1h
        timeout: 2s
        retries: 0
        cov: { lifetime: 1h, confirmed: ${confirmed} }
        points:
${points.join('\n')}
steps:
  - plugin: bacnet
  - plugin: json
publish: { uplink: cloud, topic: "b/{point}" }
`;
}

/** The notifier's last `sent N acked M` line. */
function counts(notifier: ChildProcess): () => { sent: number; acked: number } {
  let last = { sent: 0, acked: 0 };
  notifier.stdout!.on('data', (chunk: Buffer) => {
    const lines = chunk.toString().trim().split('\n');
    const m = /sent (\d+) acked (\d+)/.exec(lines[lines.length - 1]!);
    if (m) last = { sent: Number(m[1]), acked: Number(m[2]) };
  });
  return () => last;
}

async function measure(confirmed: boolean): Promise<void> {
  const notifier = spawn(process.execPath, [fileURLToPath(new URL('./bacnet-notifier-process.js', import.meta.url)), String(OBJECTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(notifier.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim().split('\n')[0]);
  const notifierCounts = counts(notifier);
  const run = await startCapturedPipeline(pipeline(port, confirmed));
  // Messages are counted and let go: the capture sink holding a million of them would be the RSS.
  let messages = 0;
  const release = setInterval(() => {
    messages += run.sink.messages.length;
    run.sink.messages.length = 0;
  }, 50);
  const taken = () => messages + run.sink.messages.length;
  try {
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const before = { status: run.pipeline.status(), device: notifierCounts(), messages: taken() };
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const seconds = (performance.now() - t0) / 1000;
    const after = { status: run.pipeline.status(), device: notifierCounts(), messages: taken() };
    const inRing = (after.status.framesWritten - before.status.framesWritten) / seconds;
    const sent = (after.device.sent - before.device.sent) / seconds;
    const kind = confirmed ? 'confirmed' : 'unconfirmed';
    const polls = after.status.devices[0]!.requests;
    if (polls > OBJECTS) console.log(`  (${polls} requests: polled as well as subscribed to)`);
    const { dropped, repliesSkipped, replies } = after.status.unsolicited;
    console.log(`  (${kind}: gateway dropped ${dropped} under back-pressure, built no reply for ${repliesSkipped}, sent ${replies} replies in all)`);
    emitResult(`BACnet COV ${kind} notifications/s into the ingress ring (one @bacnet-js/client device, loopback)`, inRing, 'notifications/s');
    emitResult(`BACnet COV ${kind}: messages/s out of bacnet -> json (2 samples a notification)`, (after.messages - before.messages) / seconds, 'messages/s');
    emitResult(`BACnet COV ${kind}: share of the notifications sent that arrived`, sent > 0 ? (100 * inRing) / sent : 0, '%');
    if (confirmed) emitResult('BACnet COV confirmed notifications acknowledged/s (Simple-ACK seen by the device)', (after.device.acked - before.device.acked) / seconds, 'acks/s');
    emitResult(`RSS while taking ${kind} notifications`, process.memoryUsage().rss / 2 ** 20, 'MiB');
  } finally {
    clearInterval(release);
    await run.stop();
    notifier.kill();
  }
}

printMachine();
await measure(false);
await measure(true);
