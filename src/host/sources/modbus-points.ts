/**
 * Modbus points of a device: its own and its profile's, register blocks expanded into one point per
 * value, defaults taken from the point, then the device's `point_defaults`, then the profile's. Checked
 * where they are written (a profile's points once, at the profile), named uniquely per device.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { ModbusFunction, PointType, ResolvedModbusPoint } from '../config/resolved.js';
import type { WrittenDevice } from './source-kind.js';
import type { ModbusDeviceDocument, PointDefaultsDocument, PointDocument, ProfilesDocument } from './modbus-point-schema.js';

/** One point of a device once blocks are expanded: one address, one name. */
export interface ExpandedPoint {
  point: PointDocument & { address: number };
  /** Where it is written: the point entry (in the device or in the profile). */
  at: SettingPath;
  defaults: readonly (PointDefaultsDocument | undefined)[];
}

/** 16-bit registers a value of each fixed-size type occupies (functions 3 and 4). */
export const REGISTERS_PER_TYPE: Readonly<Record<Exclude<PointType, 'string'>, number>> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4,
};

const FUNCTION_NAMES = { 1: 'coils', 2: 'discrete inputs', 3: 'holding registers', 4: 'input registers' } as const;

/**
 * Register maps often number their entries from 1 with the table in front: 10001 is the first discrete
 * input, 30001 the first input register, 40001 the first holding register. An address in that range on
 * that table's function is likely such a number: a hint, not a refusal (SunSpec maps use 40000 and up).
 */
const ONE_BASED_TABLES: Readonly<Partial<Record<ModbusFunction, number>>> = { 2: 10001, 3: 40001, 4: 30001 };

/** A block bigger than this is a typo, not a register map (a whole table is 65536). */
const MAX_BLOCK_POINTS = 10_000;

/** Registers (functions 3/4) or bits (functions 1/2) one value of the point reads. Assumes its checks passed. */
export function pointLength(point: Pick<PointDocument, 'function' | 'type' | 'length'>): number {
  if (point.function === 1 || point.function === 2) return 1;
  return point.type === 'string' ? (point.length as number) : REGISTERS_PER_TYPE[point.type];
}

/** Checks every profile's points where they are written. */
export function checkProfiles(profiles: ProfilesDocument, checks: SettingChecks): void {
  for (const [name, profile] of Object.entries(profiles)) {
    const at: SettingPath = ['profiles', name, 'points'];
    if (!listIntact(profile?.points, at, checks)) continue;
    checkPointEntries(profile.points, at, checks);
    uniqueNames(expandList(profile.points, at, []), checks);
  }
}

/** Checks a device's own points, that its profile exists, and that its point names are unique. */
export function checkDevicePoints(device: ModbusDeviceDocument, at: SettingPath, profiles: ProfilesDocument | undefined, checks: SettingChecks): void {
  if (device.points === undefined && device.profile === undefined) {
    checks.invalid([...at, 'points'], 'a device needs points: or profile: (a profile of this pipeline)');
    return;
  }
  if (device.profile !== undefined && checks.clean([...at, 'profile']) && profiles !== undefined && !(device.profile in profiles)) {
    const known = Object.keys(profiles);
    checks.invalid([...at, 'profile'], `no profile "${device.profile}" in this pipeline's profiles:${known.length ? ` (it has ${known.join(', ')})` : ' (it has none)'}`);
    return;
  }
  const own = device.points === undefined || listIntact(device.points, [...at, 'points'], checks);
  if (device.points !== undefined && own) checkPointEntries(device.points, [...at, 'points'], checks);
  const profileUsable = device.profile === undefined || (profiles !== undefined && listIntact(profiles[device.profile]?.points, ['profiles', device.profile, 'points'], checks));
  // A name used twice inside the profile is the profile's problem, reported once there (checkProfiles),
  // not again for every device that uses it: only the device's own points are reported here.
  if (own && profileUsable) uniqueNames(expandDevice(device, at, profiles ?? {}), checks, [...at, 'points']);
}

/** A device as the checks across kinds see it; its point names only when its points are all valid. */
export function writtenModbusDevices(list: readonly ModbusDeviceDocument[], at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined): WrittenDevice[] {
  if (!checks.intact(at)) return [];
  return list.flatMap((d, i) => (checks.intact([...at, i]) ? [writtenModbusDevice(d, [...at, i], checks, profiles)] : []));
}

function writtenModbusDevice(d: ModbusDeviceDocument, at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined): WrittenDevice {
  const usable = checks.clean(at) && profiles !== undefined && (d.profile === undefined || (d.profile in profiles && checks.clean(['profiles', d.profile])));
  return { name: d.name, at, ...(usable ? { points: expandDevice(d, at, profiles).map((p) => p.point.name) } : {}) };
}

/** The device's points in order: the profile's first, then its own. Only for checked documents. */
export function expandDevice(device: ModbusDeviceDocument, at: SettingPath, profiles: ProfilesDocument): ExpandedPoint[] {
  const profile = device.profile === undefined ? undefined : profiles[device.profile];
  const fromProfile = profile ? expandList(profile.points, ['profiles', device.profile as string, 'points'], [device.point_defaults, profile.point_defaults]) : [];
  const own = device.points ? expandList(device.points, [...at, 'points'], [device.point_defaults]) : [];
  return [...fromProfile, ...own];
}

/** The resolved points of one device, ids from `firstId`. */
export function resolveDevicePoints(expanded: readonly ExpandedPoint[], device: number, firstId: number): ResolvedModbusPoint[] {
  return expanded.map(({ point, defaults }, i): ResolvedModbusPoint => {
    // The point's own setting, else the first of its defaults that gives one, else the built-in default.
    const chain: readonly (PointDefaultsDocument | undefined)[] = [point, ...defaults];
    const pick = <T>(setting: (d: PointDefaultsDocument) => T | undefined, fallback: T): T => {
      for (const d of chain) {
        const value = d === undefined ? undefined : setting(d);
        if (value !== undefined) return value;
      }
      return fallback;
    };
    const P = DEFAULTS.modbusPoint;
    return {
      protocol: 'modbus',
      id: firstId + i,
      name: point.name,
      device,
      function: point.function,
      address: point.address,
      type: point.type,
      order: pick((d) => d.order, P.order),
      length: point.length ?? null,
      registers: pointLength(point),
      bit: point.bit ?? null,
      unit: pick((d) => d.unit, P.unit),
      scale: pick((d) => d.scale, P.scale),
      offset: pick((d) => d.offset, P.offset),
      description: point.description,
      // A default access makes the points that can be written writable; discrete inputs and input
      // registers stay read-only whatever a device-wide default says.
      access: point.access ?? (point.function === 1 || point.function === 3 ? pick((d) => d.access, P.access) : 'read'),
      writeFunction: point.write_function ?? null,
    };
  });
}

function expandList(points: readonly PointDocument[], at: SettingPath, defaults: readonly (PointDefaultsDocument | undefined)[]): ExpandedPoint[] {
  return points.flatMap((point, p): ExpandedPoint[] => {
    const where: SettingPath = [...at, p];
    if (point.registers === undefined) return [{ point: point as PointDocument & { address: number }, at: where, defaults }];
    // A block whose range or name the schema refused (reported already) makes no points.
    if (typeof point.registers !== 'string' || typeof point.name !== 'string') return [];
    const [first, last] = blockRange(point.registers);
    const step = pointLength(point);
    const out: ExpandedPoint[] = [];
    for (let address = first, index = 0; address + step - 1 <= last && index < MAX_BLOCK_POINTS; address += step, index++) {
      const name = point.name.replaceAll('{index}', String(index)).replaceAll('{address}', String(address));
      out.push({ point: { ...point, name, address, registers: undefined }, at: where, defaults });
    }
    return out;
  });
}

/** A list of points whose every entry is a map: what expansion needs (values inside may be refused). */
function listIntact(points: readonly PointDocument[] | undefined, at: SettingPath, checks: SettingChecks): boolean {
  return Array.isArray(points) && checks.intact(at) && points.every((_, i) => checks.intact([...at, i]));
}

function blockRange(text: string): [number, number] {
  const [a, b] = text.split('..').map((s) => Number(s.trim()));
  return [a as number, b as number];
}

/** Reports every point whose name an earlier one has; with `under`, only the points written there. */
function uniqueNames(expanded: readonly ExpandedPoint[], checks: SettingChecks, under?: SettingPath): void {
  const first = new Map<string, SettingPath>();
  for (const { point, at } of expanded) {
    if (!checks.clean([...at, 'name'])) continue;
    const earlier = first.get(point.name);
    // Repeats within one block (a name without {index} or {address}) are the block's problem, said once at it.
    const sameEntry = earlier !== undefined && earlier.length === at.length && earlier.every((segment, i) => at[i] === segment);
    if (earlier === undefined) first.set(point.name, at);
    else if (!sameEntry && (under === undefined || under.every((segment, i) => at[i] === segment))) {
      checks.report([...at, 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'point', name: point.name, detail: checks.describe(earlier) });
    }
  }
}

function checkPointEntries(points: readonly PointDocument[], at: SettingPath, checks: SettingChecks): void {
  points.forEach((point, p) => {
    const where: SettingPath = [...at, p];
    // The combinations below read several settings at once: only look when the schema accepted all of them.
    if (checks.clean(where)) checkPoint(point, where, checks);
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
  if (point.registers === undefined && /[{}]/.test(point.name)) {
    checks.invalid([...at, 'name'], '{index} and {address} name the points of a block (registers: first..last); one point has a plain name');
  }
  checkAccess(point, at, fn, checks);
  const consistent = bits ? point.type === 'bool' : point.type !== 'string' || point.length !== undefined;
  if (point.address === undefined && point.registers === undefined) {
    checks.invalid([...at, 'address'], 'a point needs address: (one point) or registers: first..last (a block of points)');
  } else if (point.address !== undefined && point.registers !== undefined) {
    checks.conflict([...at, 'registers'], [...at, 'address'], 'registers (a block) and address (one point) exclude each other');
  } else if (point.address !== undefined) {
    checkAddress(point, point.address, at, fn, checks);
    if (consistent) {
      const last = point.address + pointLength(point) - 1;
      if (last > 65_535) checks.invalid([...at, 'address'], `reads up to address ${last}, past the last address 65535`);
    }
  } else if (consistent) {
    checkBlock(point, at, checks);
  }
}

function checkAccess(point: PointDocument, at: SettingPath, fn: string, checks: SettingChecks): void {
  const writable = point.access === 'write' || point.access === 'read_write';
  if (writable && (point.function === 2 || point.function === 4)) {
    checks.conflict([...at, 'access'], [...at, 'function'], `${fn} is read-only in Modbus: only coils (1) and holding registers (3) can be written`);
  }
  const wf = point.write_function;
  if (wf === undefined) return;
  if (!writable && point.access !== undefined) {
    checks.conflict([...at, 'write_function'], [...at, 'access'], `write_function applies to points that may be written (access is ${point.access})`);
  } else if (point.function === 1 && wf !== 5 && wf !== 15) {
    checks.conflict([...at, 'write_function'], [...at, 'function'], `coils are written with function 5 or 15 (got ${wf})`);
  } else if (point.function === 3 && wf !== 6 && wf !== 16) {
    checks.conflict([...at, 'write_function'], [...at, 'function'], `holding registers are written with function 6 or 16 (got ${wf})`);
  } else if (wf === 6 && point.type !== 'bool' && point.function === 3 && pointLength(point) > 1) {
    checks.conflict([...at, 'write_function'], [...at, 'type'], `function 6 writes one register, and a ${point.type} takes ${pointLength(point)}: use 16`);
  }
}

function checkAddress(point: PointDocument, address: number, at: SettingPath, fn: string, checks: SettingChecks): void {
  const first = ONE_BASED_TABLES[point.function];
  if (first === undefined || address < first || address > first + 9998) return;
  checks.hint([...at, 'address'],
    `${address} on ${fn} looks like a 1-based register number (${first} = the first of the ${FUNCTION_NAMES[point.function]}); ` +
    `address is the 0-based protocol address, so if the device's map writes ${address}, use address: ${address - first}. ` +
    `If the map gives protocol addresses (SunSpec maps start at 40000), ${address} is right`);
}

function checkBlock(point: PointDocument, at: SettingPath, checks: SettingChecks): void {
  const path: SettingPath = [...at, 'registers'];
  const [first, last] = blockRange(point.registers as string);
  const step = pointLength(point);
  const count = (last - first + 1) / step;
  if (last > 65_535) return void checks.invalid(path, `ends at ${last}, past the last address 65535`);
  if (last < first) return void checks.invalid(path, `must run from a lower to a higher address (got ${first}..${last})`);
  if (!Number.isInteger(count)) {
    return void checks.invalid(path, `${first}..${last} is ${last - first + 1} ${point.function <= 2 ? 'bits' : 'registers'}, not a whole number of ${point.type} values of ${step} each`);
  }
  if (count > MAX_BLOCK_POINTS) return void checks.invalid(path, `makes ${count} points; a block makes at most ${MAX_BLOCK_POINTS}`);
  if (count > 1 && !point.name.includes('{index}') && !point.name.includes('{address}')) {
    checks.invalid([...at, 'name'], `a block of ${count} points needs {index} or {address} in its name, or every point would be "${point.name}"`);
  }
}
