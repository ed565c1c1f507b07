/**
 * Checks of Modbus points across their settings: which combinations of function, type, length and
 * bit mean something, whether the registers fit the address space, and unique names per pipeline.
 */
import type { DeviceDocument, PointDocument } from './documents.js';
import type { PointType } from './resolved.js';
import type { SettingChecks } from './setting-checks.js';
import type { SettingPath } from './setting-path.js';

/** 16-bit registers a value of each fixed-size type occupies (functions 3 and 4). */
export const REGISTERS_PER_TYPE: Readonly<Record<Exclude<PointType, 'string'>, number>> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

const FUNCTION_NAMES = { 1: 'coils', 2: 'discrete inputs', 3: 'holding registers', 4: 'input registers' } as const;

/**
 * Register maps often number their entries from 1 with the table in front: 10001 is the first
 * discrete input, 30001 the first input register, 40001 the first holding register (five digits,
 * so up to 19999, 39999, 49999). An address in that range on that table's function is likely such a
 * number. It is a hint, not a refusal: those addresses are valid, and real maps use them (SunSpec
 * devices put their registers at 40000 and up).
 */
const ONE_BASED_TABLES: Readonly<Partial<Record<PointDocument['function'], number>>> = { 2: 10001, 3: 40001, 4: 30001 };

/** Registers (functions 3/4) or bits (functions 1/2) a point reads. Assumes the point passed its checks. */
export function pointLength(point: PointDocument): number {
  if (point.function === 1 || point.function === 2) return 1;
  return point.type === 'string' ? (point.length as number) : REGISTERS_PER_TYPE[point.type];
}

/** Checks every point of every device; point names must be unique across the pipeline. */
export function checkPoints(devices: readonly DeviceDocument[], devicesAt: SettingPath, checks: SettingChecks): void {
  const firstByName = new Map<string, SettingPath>();
  devices.forEach((device, d) => {
    if (!checks.intact([...devicesAt, d, 'points'])) return;
    device.points.forEach((point, p) => {
      const at: SettingPath = [...devicesAt, d, 'points', p];
      if (!checks.intact(at)) return;
      if (checks.clean([...at, 'name'])) {
        const first = firstByName.get(point.name);
        if (first) checks.report([...at, 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'point', name: point.name, detail: checks.describe(first) });
        else firstByName.set(point.name, at);
      }
      // The combinations below read four settings at once: only look when the schema accepted all of them.
      if (checks.clean(at)) checkPoint(point, at, checks);
    });
  });
}

function checkPoint(point: PointDocument, at: SettingPath, checks: SettingChecks): void {
  const bits = point.function === 1 || point.function === 2;
  const fn = `function ${point.function} (${FUNCTION_NAMES[point.function]})`;
  if (bits && point.type !== 'bool') {
    checks.conflict([...at, 'type'], [...at, 'function'], `${fn} reads single bits, so type must be bool (got ${point.type})`);
  }
  if (point.type === 'string' && point.length === undefined && !bits) {
    checks.invalid([...at, 'length'], 'type string needs length: the number of registers holding the text');
  }
  if (point.length !== undefined && point.type !== 'string') {
    checks.conflict([...at, 'length'], [...at, 'type'], `length applies to type string only (type is ${point.type})`);
  }
  if (point.bit !== undefined && bits) {
    checks.conflict([...at, 'bit'], [...at, 'function'], `bit picks a bit of a register, but ${fn} reads single bits already`);
  } else if (point.bit !== undefined && point.type !== 'bool') {
    checks.conflict([...at, 'bit'], [...at, 'type'], `bit applies to type bool only (type is ${point.type})`);
  }
  if (point.type === 'bool' && !bits && point.bit === undefined) {
    checks.invalid([...at, 'bit'], `type bool on ${fn} needs bit: which bit of the register (0 = least significant)`);
  }
  const first = ONE_BASED_TABLES[point.function];
  if (first !== undefined && point.address >= first && point.address <= first + 9998) {
    const address = point.address - first;
    checks.hint([...at, 'address'],
      `${point.address} on ${fn} looks like a 1-based register number (${first} = the first of the ${FUNCTION_NAMES[point.function]}); ` +
      `address is the 0-based protocol address, so if the device's map writes ${point.address}, use address: ${address}. ` +
      `If the map gives protocol addresses (SunSpec maps start at 40000), ${point.address} is right`);
  }
  const consistent = bits ? point.type === 'bool' : point.type !== 'string' || point.length !== undefined;
  if (consistent) {
    const last = point.address + pointLength(point) - 1;
    if (last > 65_535) checks.invalid([...at, 'address'], `reads up to address ${last}, past the last address 65535`);
  }
}
