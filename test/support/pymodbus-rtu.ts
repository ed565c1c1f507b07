/**
 * Debian's pymodbus 3.0 as a Modbus RTU bus for interop and bus tests, through the `serve-rtu` mode
 * of test/support/pymodbus_server.py: several unit ids on one line, each with its own register image
 * and, if the test wants one, a fault. Two ways onto the line:
 *
 * - `startPymodbusRtuSerial`: pymodbus's ModbusSerialServer (pyserial) on a serial port, the peer end
 *   of a socat pty pair (test/support/pty-pair.ts); the code under test opens the bus end.
 * - `startPymodbusRtuOverTcp`: pymodbus's ModbusTcpServer with the RTU framer, as a serial device
 *   server (a Moxa NPort, a USR-TCP232 in "none" mode) forwards RTU frames over TCP.
 *
 * Faults are pymodbus's own request handling with the answer changed on its way out (see
 * pymodbus_server.py): `silent` (never answers), `exception` (answers every request with one exception
 * code), `slow` (answers after `delayMs`, other units answering meanwhile), `bad-crc`, `garbage`. Each can
 * be set and cleared while the bus runs (`setFault`), so a test can make a unit stop answering and
 * come back. `requestsSeen` counts, per unit, the requests that reached pymodbus with a valid frame,
 * an account independent of the code under test.
 *
 * On a pty the serial settings are settings only: bytes cross at memory speed whatever the baud rate,
 * and the pty carries no parity bit (pymodbus opens a pty without parity; see pty-pair.ts).
 *
 * Gate tests with `needs('python3-pymodbus', !!findPymodbusPython())`.
 */
import { spawn } from 'node:child_process';
import type { SerialParity } from '../../src/hal/serial-timing.js';
import { PYMODBUS_SCRIPT, pymodbusPython, type PymodbusImage } from './pymodbus.js';

const READY_WITHIN_MS = 15_000; // python start + pymodbus import on a slow SD-card box
const ANSWER_WITHIN_MS = 5_000;
const STOP_WITHIN_MS = 5_000;

/** What a unit does wrong, applied to every answer it gives. */
export type RtuFault =
  | { kind: 'silent' }
  | { kind: 'exception'; code?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'bad-crc' }
  | { kind: 'garbage' };

/** One unit on the bus: its registers (as for the TCP server) and its fault, if any. */
export interface RtuUnit extends PymodbusImage {
  fault?: RtuFault;
}

export interface RtuBus {
  /** Unit id (1..247) to unit. A unit id not listed is not on the bus: it never answers. */
  units: Record<number, RtuUnit>;
}

export interface RtuSerialBus extends RtuBus {
  /** The port pymodbus opens: the peer end of a pty pair. */
  path: string;
  /** Defaults: 9600 baud, even parity, 8 data bits, 1 stop bit (Modbus RTU's default framing). */
  baudRate?: number;
  parity?: SerialParity;
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
}

export interface PymodbusRtuServer {
  /** The TCP port, for RTU over TCP; undefined on a serial port. */
  readonly port: number | undefined;
  /** The serial port, on a serial bus; undefined for RTU over TCP. */
  readonly path: string | undefined;
  /** Sets (or, with null, clears) a unit's fault from the next answer on. */
  setFault(unit: number, fault: RtuFault | null): Promise<void>;
  /** Requests pymodbus decoded, per unit id, since it started (faulty units included). */
  requestsSeen(): Promise<Record<number, number>>;
  /** Ends the server (stdin EOF, then SIGKILL if it lingers) and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Starts pymodbus's RTU server on a serial port; resolves once the port is open. */
export function startPymodbusRtuSerial(bus: RtuSerialBus): Promise<PymodbusRtuServer> {
  return start({ transport: 'serial', ...bus });
}

/** Starts pymodbus's TCP server with the RTU framer on 127.0.0.1 and a port the OS picks. */
export function startPymodbusRtuOverTcp(bus: RtuBus): Promise<PymodbusRtuServer> {
  return start({ transport: 'tcp', port: 0, ...bus });
}

function start(payload: Record<string, unknown>): Promise<PymodbusRtuServer> {
  const child = spawn(pymodbusPython(), [PYMODBUS_SCRIPT, 'serve-rtu', JSON.stringify(payload)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  // stdout is line by line: READY first, then one answer line per command, in command order.
  let buffered = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    wake?.();
  });
  child.once('exit', () => wake?.());

  async function nextLine(withinMs: number, what: string): Promise<string> {
    const deadline = Date.now() + withinMs;
    while (lines.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pymodbus RTU server exited before ${what}; stderr:\n${stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`pymodbus RTU server: no ${what} within ${withinMs} ms; stderr:\n${stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = undefined;
    }
    return lines.shift() as string;
  }

  // One command at a time, so each answer line belongs to the command that is waiting for it.
  let queue: Promise<unknown> = Promise.resolve();
  function command(request: object, expect: RegExp): Promise<RegExpExecArray> {
    const run = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const line = await nextLine(ANSWER_WITHIN_MS, `answer to ${JSON.stringify(request)}`);
      const match = expect.exec(line);
      if (!match) throw new Error(`pymodbus RTU server answered ${JSON.stringify(line)} to ${JSON.stringify(request)}`);
      return match;
    });
    queue = run.catch(() => undefined);
    return run;
  }

  return nextLine(READY_WITHIN_MS, 'READY line').then(
    (line) => {
      const ready = /^READY (.+)$/.exec(line);
      if (!ready) {
        child.kill('SIGKILL');
        throw new Error(`pymodbus RTU server printed ${JSON.stringify(line)} instead of READY; stderr:\n${stderr}`);
      }
      const serial = payload.transport === 'serial';
      return {
        port: serial ? undefined : Number(ready[1]),
        path: serial ? ready[1] : undefined,
        async setFault(unit, fault) {
          await command({ unit, fault }, /^OK$/);
        },
        async requestsSeen() {
          const [, json] = await command({ stats: true }, /^STATS (.*)$/);
          return Object.fromEntries(Object.entries(JSON.parse(json as string) as Record<string, number>).map(([k, v]) => [Number(k), v]));
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.stdin.end();
          const lingering = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
          await exited;
          clearTimeout(lingering);
        },
      };
    },
    (error: Error) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
}
