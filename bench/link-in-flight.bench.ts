/**
 * Modbus TCP with several transactions in flight on one connection against a pymodbus device (Debian's
 * python3-pymodbus, an independent server): answered requests per second with in_flight 1, 4 and 8,
 * one connection, one device of 16 requests polled back to back. The ratio to in_flight 1 is the
 * figure; the absolute rate is bounded by pymodbus, a Python server, not by the gateway.
 */
import { printMachine, emitResult } from './machine.js';
import { startPymodbusServer } from '../test/support/pymodbus.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';

const REQUESTS = 16;
const WINDOW_MS = 4_000;
const WARMUP_MS = 1_000;

function pipeline(port: number, inFlight: number): string {
  const points = Array.from({ length: REQUESTS }, (_, i) => `          - { name: r${i}, function: 3, address: ${i * 3}, type: uint16 }`);
  return `pipeline: { name: bench }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${port}
        in_flight: ${inFlight}
        interval: 1ms
        timeout: 2s
        points:
${points.join('\n')}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "b/{point}" }
`;
}

async function answeredPerSecond(port: number, inFlight: number): Promise<number> {
  const run = await startCapturedPipeline(pipeline(port, inFlight));
  try {
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const before = run.pipeline.status().devices[0]!.responses;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const after = run.pipeline.status().devices[0]!;
    if (after.timeouts > 0) console.log(`  (in_flight ${inFlight}: ${after.timeouts} timeouts)`);
    return ((after.responses - before) * 1000) / (performance.now() - t0);
  } finally {
    await run.stop();
  }
}

printMachine();
const server = await startPymodbusServer({ holding: { 0: new Array(REQUESTS * 3).fill(7) } });
try {
  const one = await answeredPerSecond(server.port, 1);
  emitResult('Modbus TCP polls/s, in_flight 1 (pymodbus)', one, 'req/s');
  for (const n of [4, 8]) {
    const rate = await answeredPerSecond(server.port, n);
    emitResult(`Modbus TCP polls/s, in_flight ${n} (pymodbus)`, rate, 'req/s');
    emitResult(`in_flight ${n} / in_flight 1`, rate / one, 'x', '> 1');
  }
} finally {
  await server.stop();
}
