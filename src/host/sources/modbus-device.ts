/**
 * What every Modbus device has, whatever its link: its poll timing checks and its resolution.
 */
import { known } from '../config/resolve-pipeline.js';
import type { Framing } from '../config/resolved.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import type { ModbusDeviceDocument } from './modbus-point-schema.js';
import type { DeviceDraft } from './source-builder.js';
import type { SourceKindName } from './source-kinds.js';

export function checkModbusDevice(d: ModbusDeviceDocument, at: SettingPath, checks: SettingChecks): void {
  // A long interval (a monthly meter read, 720h) is the poller's to schedule; a timeout is one timer.
  checks.duration([...at, 'interval'], d.interval, true);
  checks.duration([...at, 'timeout'], d.timeout, true, true);
  const turnaround = checks.duration([...at, 'turnaround'], d.turnaround, false, true);
  if (turnaround !== undefined && turnaround > MAX_QUIET_MS) checks.invalid([...at, 'turnaround'], quietTooLong('turnaround', turnaround));
}

/**
 * Turnaround and silence hold the whole link quiet: a slave needs milliseconds, so anything past 10 s
 * is a typo (`24d` for `24ms`) that would stall every device of the bus.
 */
export const MAX_QUIET_MS = 10_000;

export function quietTooLong(setting: string, ms: number): string {
  return `${setting} holds the whole link quiet, so it may be at most 10s (got ${ms}ms): a slave needs milliseconds, and a long ${setting} stalls every device of the bus`;
}

export function modbusDeviceDraft(d: ModbusDeviceDocument, kind: SourceKindName, framing: Framing): Omit<DeviceDraft, 'address'> {
  return {
    name: d.name,
    kind,
    framing,
    unitId: d.unit_id,
    intervalMs: known(parseDuration(d.interval)),
    timeoutMs: known(parseDuration(d.timeout)),
    retries: d.retries,
    turnaroundMs: known(parseDuration(d.turnaround)),
    quarantineAfter: d.quarantine_after,
    bacnet: null,
  };
}
