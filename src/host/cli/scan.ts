/**
 * `wasmgate scan modbus`: asks every unit id of a range on one serial port or TCP host for a register
 * range and lists those that answer (good values, or a Modbus exception: someone is there), with the
 * values read; --json for a script. One pipeline, one device per unit id, so on a bus the arbiter
 * asks them one at a time; on the running daemon's link when it holds the line (through-daemon.ts).
 */
import { readTarget, type DaemonChoice } from './through-daemon.js';
import type { CommissionTarget } from '../commission/commission-target.js';
import { createLogger } from '../logger.js';

export async function runScan(target: CommissionTarget, json: boolean, daemon: DaemonChoice, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  // Exceptions and silence are what a scan expects of most unit ids: do not log each. A unit that does
  // not answer is logged at error level (WG_ERR_DEVICE_NO_ANSWER), a line per absent unit of the range,
  // so only fatal lines are shown; a link that never opens is the scan's own error (one-shot-read.ts).
  const logger = createLogger('error', 'pretty', {}, true);
  logger.level = 'fatal';
  const readings = await readTarget(target, daemon, logger, err);
  const found = readings.filter((r) => r.present);
  if (json) {
    out(JSON.stringify({
      function: target.range.function, address: target.range.address, count: target.range.count, asked: target.units.length,
      found: found.map((r) => ({ unit: r.unit, answered: r.answered, values: r.values.map((v) => v.value), quality: r.values.map((v) => v.quality) })),
    }));
  } else {
    out(`asked ${target.units.length} unit id(s); ${found.length} answered`);
    for (const r of found) {
      const values = r.values.map((v) => (v.value === null ? v.quality : String(v.value))).join(' ');
      // Not every bad answer is an exception: a corrupt frame (bad CRC, line noise) is bad too.
      out(`unit ${r.unit}: ${r.answered ? '' : '(answer not good: an exception or a corrupt frame) '}${values}`);
    }
  }
  return found.length > 0 ? 0 : 1;
}
