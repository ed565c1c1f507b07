/**
 * Debian's python3-pymodbus (3.0) as an independent Modbus implementation for interop tests, through
 * test/support/pymodbus_server.py: a Modbus TCP server with registers the test chooses, and pymodbus's
 * own BinaryPayloadBuilder as a reference encoder of typed values into register words.
 *
 * Gate tests with `needs('python3-pymodbus', !!findPymodbusPython())`: Debian's pymodbus imports only
 * from /usr/bin/python3, which may not be the first python3 on the PATH.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModbusTable, RegisterContents } from '../../src/host/demo/register-image.js';
import type { WordOrder } from '../../src/host/demo/register-words.js';
import { findPymodbusPython } from './tools.js';

// Compiled to dist/test/support/; the script stays in the source tree.
export const PYMODBUS_SCRIPT = fileURLToPath(new URL('../../../test/support/pymodbus_server.py', import.meta.url));
const READY_WITHIN_MS = 15_000; // python start + pymodbus import on a slow SD-card box
const STOP_WITHIN_MS = 5_000;

export interface PymodbusImage extends RegisterContents {
  /** Mapped addresses per table, from 0; a read past it gets exception 2. Default 65 536. */
  size?: Partial<Record<ModbusTable, number>>;
  /** "rtu": Modbus RTU frames over TCP, as a serial device server frames them. Default "tcp". */
  framing?: 'tcp' | 'rtu';
}

export interface PymodbusServer {
  readonly port: number;
  /** Ends the server (stdin EOF, then SIGKILL if it lingers) and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Types pymodbus's BinaryPayloadBuilder can add. */
export type PymodbusType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64';

export interface PymodbusEncodeCase {
  type: PymodbusType;
  value: number | bigint;
  order: WordOrder;
}

/** Debian's python3 that imports pymodbus; throws when there is none (gate the test first). */
export function pymodbusPython(): string {
  const py = findPymodbusPython();
  if (!py) throw new Error('python3-pymodbus not installed (gate the test with needs("python3-pymodbus", ...))');
  return py;
}

/** Starts a pymodbus Modbus TCP server on 127.0.0.1 and a port the OS picks; resolves once it accepts connections. */
export function startPymodbusServer(image: PymodbusImage = {}): Promise<PymodbusServer> {
  const child = spawn(pymodbusPython(), [PYMODBUS_SCRIPT, 'serve', JSON.stringify({ ...image, port: 0 })], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(deadline);
      child.kill('SIGKILL');
      reject(new Error(`pymodbus server ${why}; stderr:\n${stderr}`));
    };
    const deadline = setTimeout(() => fail(`not ready within ${READY_WITHIN_MS} ms`), READY_WITHIN_MS);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const ready = /^READY (\d+)$/m.exec(stdout);
      if (!ready) return;
      clearTimeout(deadline);
      child.removeListener('exit', early);
      resolve({ port: Number(ready[1]), stop: () => stop(child, exited) });
    });
    const early = (code: number | null): void => fail(`exited (${code}) before it was ready`);
    child.once('exit', early);
  });
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const lingering = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
  await exited;
  clearTimeout(lingering);
}

/** Register words pymodbus's BinaryPayloadBuilder produces for each case, in order. One python run for all. */
export function pymodbusEncodeMany(cases: readonly PymodbusEncodeCase[]): Promise<number[][]> {
  const payload = JSON.stringify(cases.map((c) => ({ type: c.type, value: String(c.value), order: c.order })));
  return new Promise((resolve, reject) => {
    execFile(pymodbusPython(), [PYMODBUS_SCRIPT, 'encode', payload], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`pymodbus encode failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout) as number[][]);
    });
  });
}

/** Register words pymodbus's BinaryPayloadBuilder produces for `value` as `type` in `order`. */
export async function pymodbusEncode(type: PymodbusType, value: number | bigint, order: WordOrder): Promise<number[]> {
  const [words] = await pymodbusEncodeMany([{ type, value, order }]);
  return words as number[];
}

/** The two CRC-16 bytes pymodbus's computeCRC gives each frame, in wire order (C5 CD for 01 03 00 00 00 0A). */
export function pymodbusCrc(frames: readonly Uint8Array[]): Promise<Array<[number, number]>> {
  const payload = JSON.stringify(frames.map((f) => Buffer.from(f).toString('hex')));
  return new Promise((resolve, reject) => {
    execFile(pymodbusPython(), [PYMODBUS_SCRIPT, 'crc', payload], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`pymodbus crc failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout) as Array<[number, number]>);
    });
  });
}
