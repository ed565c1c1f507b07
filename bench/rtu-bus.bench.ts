/**
 * Modbus RTU bus utilisation, on a socat pty pair against pymodbus (Debian's python3-pymodbus, an
 * independent RTU slave), at the silence of 9600 and 115200 baud, with and without a dead slave.
 *
 * A pty moves bytes at memory speed whatever the baud rate, so what it measures is what the host and
 * the slave add to each transaction (the arbiter's grant, the silence it keeps, framing, the slave's
 * processing). The wire's own time is arithmetic: a read of 10 registers is an 8-byte request and a
 * 25-byte answer, 11 bits a character (8E1), plus the 3.5-character silence after each frame. The
 * figures: the wire's theoretical maximum polls/s, the measured host+slave time per transaction, the
 * polls/s a real line at that speed would then give, as a fraction of the theoretical maximum, and the
 * same with a dead slave on the bus (quarantined, probed now and then).
 */
import { emitResult, printMachine } from './machine.js';
import { rtuInterFrameSilenceMs, transmitTimeMs } from '../src/hal/serial-timing.js';
import { startPymodbusRtuSerial } from '../test/support/pymodbus-rtu.js';
import { startPtyPair } from '../test/support/pty-pair.js';
import { startCapturedPipeline } from '../test/support/captured-pipeline.js';

const WINDOW_MS = 4_000;
const REGISTERS = 10;
const REQUEST_BYTES = 8;
const RESPONSE_BYTES = 5 + 2 * REGISTERS;

function pipeline(path: string, baud: number, units: number[], healthy: number[]): string {
  // Healthy slaves are polled back to back (1 ms: always due); a dead one at a plain 100 ms.
  const devices = units.map((u) => `          - { name: u${u}, unit_id: ${u}, interval: ${healthy.includes(u) ? '1ms' : '100ms'}, timeout: 100ms, retries: 0, points: [{ function: 3, registers: "0..${REGISTERS - 1}", type: uint16, name: "r{index}" }] }`);
  return `pipeline: { name: rtu-bench }
source:
  modbus_rtu:
    buses:
      - name: line
        port: ${path}
        baud: ${baud}
        parity: none
        devices:
${devices.join('\n')}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "b/{device}/{point}" }
`;
}

async function transactionsPerSecond(path: string, baud: number, units: number[], healthy: number[]): Promise<number> {
  const run = await startCapturedPipeline(pipeline(path, baud, units, healthy));
  try {
    await new Promise((r) => setTimeout(r, 1_500));
    const answered = () => run.pipeline.status().devices.filter((d) => healthy.includes(Number(d.device.slice(1)))).reduce((n, d) => n + d.responses, 0);
    const before = answered();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    return ((answered() - before) * 1000) / (performance.now() - t0);
  } finally {
    await run.stop();
  }
}

printMachine();
const pty = await startPtyPair();
const image = { holding: { 0: new Array(REGISTERS).fill(1) } };
const bus = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate: 115200, parity: 'none', units: { 1: image, 2: image } });
try {
  for (const baud of [9600, 115200]) {
    const framing = { baudRate: baud, dataBits: 8 as const, parity: 'even' as const, stopBits: 1 as const };
    const silence = rtuInterFrameSilenceMs({ ...framing, parity: 'none' });
    const wireMs = transmitTimeMs(framing, REQUEST_BYTES + RESPONSE_BYTES) + 2 * rtuInterFrameSilenceMs(framing);
    const theoretical = 1000 / wireMs;
    emitResult(`RTU ${baud} baud: wire maximum, ${REGISTERS}-register reads`, theoretical, 'polls/s');
    const onPty = await transactionsPerSecond(pty.busPath, baud, [1, 2], [1, 2]);
    const hostMs = Math.max(0, 1000 / onPty - silence);
    emitResult(`RTU ${baud} baud: host + slave time per transaction (pty, silence kept)`, hostMs, 'ms');
    const expected = 1000 / (wireMs + hostMs);
    emitResult(`RTU ${baud} baud: expected on the wire, fraction of the maximum`, expected / theoretical, 'x', '-> 1');
    const withDead = await transactionsPerSecond(pty.busPath, baud, [1, 2, 3], [1, 2]);
    emitResult(`RTU ${baud} baud: healthy polls with a dead slave / without (pty)`, withDead / onPty, 'x', '-> 1');
  }
} finally {
  await bus.stop();
  await pty.stop();
}
