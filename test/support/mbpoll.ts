/**
 * Debian's `mbpoll` (libmodbus) as an independent Modbus client for interop tests, over TCP or RTU on
 * a serial port (a pty of a socat pair): one poll, its printed values parsed back into numbers. Always async: the server under test usually lives in the
 * same process, so blocking on the child would starve it.
 *
 * mbpoll's own conventions, measured on 1.0-0: 16-bit values print unsigned (`65535 (-1)`); `int32`
 * prints signed; `float32` prints with %g (six significant digits); 32-bit values are read low word
 * first (CDAB) unless `-B` (ABCD); a failed read exits 1 with libmodbus's message on stderr.
 */
import { execFile } from 'node:child_process';
import type { ModbusTable } from '../../src/host/demo/register-image.js';
import { findTool } from './tools.js';

/** RTU on a serial port instead of TCP: `mbpoll -m rtu -b BAUD -P PARITY PATH`. */
export interface MbpollSerial {
  path: string;
  /** Default 9600. */
  baudRate?: number;
  /** Default even (Modbus RTU's default; mbpoll's own default is even too). */
  parity?: 'none' | 'even' | 'odd';
  /** Default 1. */
  stopBits?: 1 | 2;
}

export interface MbpollRead {
  /** TCP port (Modbus TCP); ignored when `serial` is given. */
  port?: number;
  host?: string;
  /** Poll over RTU on this serial port instead of TCP. */
  serial?: MbpollSerial;
  table: ModbusTable;
  /** Zero-based PDU address. */
  address: number;
  /** Number of values (a 32-bit value counts once). Default 1. */
  count?: number;
  /** Register tables only. Default `uint16`. */
  format?: 'uint16' | 'int32' | 'float32';
  /** Word order of 32-bit formats: mbpoll knows only these two. Default `CDAB` (mbpoll's default). */
  wordOrder?: 'ABCD' | 'CDAB';
  /** Default 1. */
  unitId?: number;
  /** Default 1 s (mbpoll's range: 0.01 to 10). */
  timeoutSeconds?: number;
}

/** libmodbus's texts for Modbus exception codes, as mbpoll prints them. */
const EXCEPTION_TEXTS: Record<string, number> = {
  'Illegal function': 1,
  'Illegal data address': 2,
  'Illegal data value': 3,
  'Slave device or server failure': 4,
  'Acknowledge': 5,
  'Slave device or server is busy': 6,
  'Negative acknowledge': 7,
  'Memory parity error': 8,
  'Gateway path unavailable': 10,
  'Target device failed to respond': 11,
};

/** A poll that mbpoll reported as failed. */
export class MbpollFailure extends Error {
  /** The Modbus exception code the device answered, when it answered one. */
  readonly modbusException: number | undefined;
  /** True when no answer came within the timeout. */
  readonly timedOut: boolean;
  /** True when libmodbus rejected the answer's CRC (RTU). */
  readonly badCrc: boolean;
  readonly stderr: string;

  constructor(args: string[], stderr: string) {
    super(`mbpoll ${args.join(' ')} failed: ${stderr.trim()}`);
    this.name = 'MbpollFailure';
    this.stderr = stderr;
    const text = Object.keys(EXCEPTION_TEXTS).find((t) => stderr.includes(`failed: ${t}`));
    this.modbusException = text === undefined ? undefined : EXCEPTION_TEXTS[text];
    this.timedOut = stderr.includes('Connection timed out');
    this.badCrc = stderr.includes('Invalid CRC');
  }
}

const TABLE_TYPES: Record<ModbusTable, string> = { coils: '0', discrete: '1', input: '3', holding: '4' };
const FORMAT_SUFFIXES = { uint16: '', int32: ':int', float32: ':float' } as const;

export function findMbpoll(): string | undefined {
  return findTool('mbpoll');
}

/** Polls once and returns the values in address order (bits as 0/1). Rejects with MbpollFailure. */
export function mbpollRead(read: MbpollRead): Promise<number[]> {
  const mbpoll = findMbpoll();
  if (!mbpoll) return Promise.reject(new Error('mbpoll not installed (gate the test with needs("mbpoll", ...))'));
  const count = read.count ?? 1;
  const bits = read.table === 'coils' || read.table === 'discrete';
  const type = TABLE_TYPES[read.table] + (bits ? '' : FORMAT_SUFFIXES[read.format ?? 'uint16']);
  const serial = read.serial;
  if (!serial && read.port === undefined) return Promise.reject(new Error('mbpollRead needs a TCP port or a serial port'));
  const link = serial
    ? ['-m', 'rtu', '-b', String(serial.baudRate ?? 9600), '-P', serial.parity ?? 'even', '-s', String(serial.stopBits ?? 1)]
    : ['-m', 'tcp', '-p', String(read.port)];
  const args = [...link, '-a', String(read.unitId ?? 1), '-0', '-r', String(read.address), '-c', String(count), '-t', type];
  if (read.wordOrder === 'ABCD') args.push('-B');
  args.push('-o', String(read.timeoutSeconds ?? 1), '-1', '-q', serial ? serial.path : (read.host ?? '127.0.0.1'));
  return new Promise((resolve, reject) => {
    execFile(mbpoll, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) return reject(new MbpollFailure(args, stderr || error.message));
      const values = [...stdout.matchAll(/^\[\d+\]:\s+(\S+)/gm)].map((m) => Number(m[1]));
      if (values.length !== count || values.some(Number.isNaN)) {
        return reject(new MbpollFailure(args, `expected ${count} values, got output:\n${stdout}`));
      }
      resolve(values);
    });
  });
}
