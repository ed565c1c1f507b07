/**
 * BACnet/IP ReadPropertyMultiple on loopback: points per second the gateway reads, decodes and encodes
 * (bacnet -> json, into memory) from one device simulator (@bacnet-js/client in a process of its own)
 * polled back to back, for 4, 16 and 64 present values a request (max_properties), and the process's
 * RSS while it runs. The rate is bounded by the simulator, a JavaScript stack answering one request at
 * a time, as much as by the gateway: the figure to compare across changes is points/s at equal load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { printMachine, emitResult } from './machine.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';

const POINTS = 64;
const WINDOW_MS = 4_000;
const WARMUP_MS = 1_000;

function pipeline(port: number, maxProperties: number): string {
  const points = Array.from({ length: POINTS }, (_, i) => `          - { name: ai${i}, object_type: analog-input, instance: ${i} }`);
  return `pipeline: { name: bench }
source:
  bacnet_ip:
    devices:
      - name: sim
        host: 127.0.0.1
        port: ${port}
        device_instance: 1
        interval: 1ms
        timeout: 2s
        retries: 0
        points:
${points.join('\n')}
steps:
  - plugin: bacnet
    with: { max_properties: ${maxProperties} }
  - plugin: json
publish: { uplink: cloud, topic: "b/{point}" }
`;
}

async function pointsPerSecond(port: number, maxProperties: number): Promise<{ rate: number; rssMiB: number }> {
  const run = await startCapturedPipeline(pipeline(port, maxProperties));
  try {
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const before = run.pipeline.status().devices[0]!.responses;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const after = run.pipeline.status().devices[0]!;
    if (after.timeouts > 0) console.log(`  (max_properties ${maxProperties}: ${after.timeouts} timeouts)`);
    return { rate: ((after.responses - before) * maxProperties * 1000) / (performance.now() - t0), rssMiB: process.memoryUsage().rss / 2 ** 20 };
  } finally {
    await run.stop();
  }
}

printMachine();
const simulator = spawn(process.execPath, [fileURLToPath(new URL('./bacnet-device-process.js', import.meta.url)), String(POINTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(simulator.stdout!, 'data')) as [Buffer];
const port = Number(line.toString().trim());
try {
  for (const n of [4, 16, 64]) {
    const { rate, rssMiB } = await pointsPerSecond(port, n);
    emitResult(`BACnet RPM points/s, ${n} per request (one @bacnet-js/client device, loopback)`, rate, 'points/s');
    emitResult(`RSS while polling, ${n} per request`, rssMiB, 'MiB');
  }
} finally {
  simulator.kill();
}
