/**
 * Modbus frames built by pymodbus's own message classes and RTU / socket framers
 * (test/support/pymodbus_frames.py), to compare the modbus plugin's frames with another
 * implementation's. Gate tests with `needs('python3-pymodbus', !!findPymodbusPython())`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findPymodbusPython } from './tools.js';

const SCRIPT = fileURLToPath(new URL('../../../test/support/pymodbus_frames.py', import.meta.url));

export type FrameSpec = { framing?: 'rtu' | 'tcp'; tid?: number; unit?: number } & (
  | { kind: 'read'; function: 1 | 2 | 3 | 4; address: number; count: number }
  | { kind: 'read_registers_response'; values: number[] }
  | { kind: 'read_coils_response'; bits: boolean[] }
  | { kind: 'write_coil' | 'write_coil_response'; address: number; on: boolean }
  | { kind: 'write_coils'; address: number; bits: boolean[] }
  | { kind: 'write_coils_response' | 'write_registers_response'; address: number; count: number }
  | { kind: 'write_register' | 'write_register_response'; address: number; value: number }
  | { kind: 'write_registers'; address: number; values: number[] }
  | { kind: 'mask_write' | 'mask_write_response'; address: number; and_mask: number; or_mask: number }
  | { kind: 'exception'; function: number; code: number }
  | { kind: 'crc'; data: string }
);

/** The frames pymodbus builds for `specs` (framing rtu, tid 0, unit 1 unless given). One python run for all. */
export function pymodbusFrames(specs: readonly FrameSpec[]): Promise<Uint8Array[]> {
  const py = findPymodbusPython();
  if (!py) return Promise.reject(new Error('python3-pymodbus not installed'));
  const payload = JSON.stringify(specs.map((s) => ({ framing: 'rtu', tid: 0, unit: 1, ...s })));
  return new Promise((resolve, reject) => {
    execFile(py, [SCRIPT, payload], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`pymodbus frames failed: ${stderr || error.message}`));
      resolve((JSON.parse(stdout) as string[]).map((hex) => Uint8Array.from(Buffer.from(hex, 'hex'))));
    });
  });
}
