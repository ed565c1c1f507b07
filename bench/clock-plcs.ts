/**
 * The peer harness's simulated PLCs, for bench/harness-load.bench.ts: `node clock-plcs.js N T0`
 * starts N Modbus TCP servers (modbus-serial's ServerTCP, one loopback port each, as a site has one
 * endpoint per PLC) whose holding register r of device d holds `(k + 997 r + 101 d) mod 65536` during
 * millisecond tick k after the instant T0 (`performance.timeOrigin + performance.now()`, the realtime
 * clock every process shares). Every register changes every millisecond, so the subscriber recovers
 * from a value alone the instant it became current: no timestamp rides in the registers, and the
 * gateway's own clock is not trusted. Prints the ports as one JSON line; a line `count` on stdin
 * prints the read requests answered so far; runs until killed.
 */
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { ServerTCP } from 'modbus-serial';

const count = Number(process.argv[2] ?? 10);
const t0 = Number(process.argv[3] ?? performance.timeOrigin + performance.now());
const now = () => performance.timeOrigin + performance.now();
let requests = 0;

export function registerValue(tick: number, register: number, device: number): number {
  return (((tick + 997 * register + 101 * device) % 65536) + 65536) % 65536;
}

function serve(device: number): Promise<number> {
  const words = (address: number, n: number): number[] => {
    requests++;
    const tick = Math.floor(now() - t0);
    return Array.from({ length: n }, (_, i) => registerValue(tick, address + i, device));
  };
  const vector = {
    getHoldingRegister: (address: number) => words(address, 1)[0]!,
    getMultipleHoldingRegisters: (address: number, n: number) => words(address, n),
  };
  return freePort().then((port) => new Promise((resolve, reject) => {
    const server = new ServerTCP(vector, { host: '127.0.0.1', port, debug: false });
    server.once('serverError', reject);
    server.once('initialized', () => {
      server.on('socketError', () => undefined);
      resolve(port);
    });
  }));
}

/** ServerTCP turns port 0 into 502: a free port is found first (as src/host/demo/plc-simulator.ts does). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

if (process.argv[1]?.endsWith('clock-plcs.js')) {
  const ports = await Promise.all(Array.from({ length: count }, (_, d) => serve(d)));
  console.log(JSON.stringify(ports));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'count') console.log(JSON.stringify({ requests }));
  });
  process.on('SIGTERM', () => process.exit(0));
}
