/**
 * What the two RTU source kinds share: a bus (a serial line, or the serial line behind a device
 * server) with its devices, their unit ids unique on it, RTU framing, one transaction at a time.
 */
import { DEFAULTS } from '../config/defaults.js';
import { backoff, duration, name } from '../config/schema-fragments.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { SchemaDocument, SchemaLiteral } from '../config/schema-document.js';
import { checkDevicePoints, writtenModbusDevices } from './modbus-points.js';
import type { ProfilesDocument } from './modbus-point-schema.js';
import { modbusDeviceProperties } from './modbus-point-schema.js';
import { checkModbusDevice, MAX_QUIET_MS, quietTooLong } from './modbus-device.js';
import type { WrittenDevice } from './source-kind.js';

/** The largest RTU frame: address 1 + PDU 253 + CRC 2 (Modbus over Serial Line V1.02, 2.5.1.1). */
export const MODBUS_RTU_MAX_ADU = 256;

const D = DEFAULTS.modbusDevice;

const rtuDevice = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'unit_id'],
  properties: {
    ...modbusDeviceProperties({ interval: D.interval, timeout: D.timeout, retries: D.retries, unitId: D.unitId }),
    // 0 is the broadcast address and 248-255 are reserved (Modbus over Serial Line V1.02, 2.2).
    unit_id: { type: 'integer', minimum: 1, maximum: 247, description: 'slave address on the bus, 1 to 247' },
  },
} as const;

/** Settings every bus has; each kind adds where the bus is. */
export function rtuBusProperties(silenceDescription: string) {
  return {
    name: name('bus name, unique within the pipeline; in logs and status'),
    silence: duration(silenceDescription),
    backoff: backoff('reopen back-off after the link fails', D.backoffMin, D.backoffMax),
    devices: { type: 'array', minItems: 1, items: rtuDevice },
  } as const;
}

/** What every bus document has, whatever the line is: the settings above, with a name and devices. */
export type RtuBusDocument = SchemaDocument<{
  type: 'object';
  additionalProperties: false;
  required: ['name', 'devices'];
  properties: ReturnType<typeof rtuBusProperties>;
}>;

/** `source.<kind>`: a list of at least one bus. */
export function busesSchema<const Bus extends SchemaLiteral>(bus: Bus) {
  return { type: 'object', additionalProperties: false, required: ['buses'], properties: { buses: { type: 'array', minItems: 1, items: bus } } } as const;
}

/** `endpoint`: where a bus goes (a serial path, a device server's host:port), for the checks across links. */
export function busDevices(buses: readonly RtuBusDocument[], at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined, endpoint: (bus: RtuBusDocument) => string): WrittenDevice[] {
  if (!checks.intact([...at, 'buses'])) return [];
  return buses.flatMap((bus, b) => {
    if (!checks.intact([...at, 'buses', b])) return [];
    const link = { name: bus.name, key: `${String(at[at.length - 1])}/bus/${b}`, endpoint: endpoint(bus) };
    return writtenModbusDevices(bus.devices, [...at, 'buses', b, 'devices'], checks, profiles).map((w) => ({ ...w, link }));
  });
}

/** Bus names unique within the kind, unit ids unique on a bus, and each device's own checks. */
export function checkBuses(buses: readonly RtuBusDocument[], at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined): void {
  const firstBus = new Map<string, SettingPath>();
  if (!checks.intact([...at, 'buses'])) return;
  buses.forEach((bus, b) => {
    const busAt: SettingPath = [...at, 'buses', b];
    if (!checks.intact([...busAt, 'devices'])) return;
    if (checks.clean([...busAt, 'name'])) {
      const earlier = firstBus.get(bus.name);
      if (earlier) checks.report([...busAt, 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'bus', name: bus.name, detail: checks.describe(earlier) });
      else firstBus.set(bus.name, busAt);
    }
    if (bus.silence !== undefined) {
      const silence = checks.duration([...busAt, 'silence'], bus.silence, false, true);
      if (silence !== undefined && silence > MAX_QUIET_MS) checks.invalid([...busAt, 'silence'], quietTooLong('silence', silence));
    }
    checks.backoff([...busAt, 'backoff'], bus.backoff);
    const firstUnit = new Map<number, SettingPath>();
    bus.devices.forEach((d, i) => {
      const devAt: SettingPath = [...busAt, 'devices', i];
      if (!checks.intact(devAt)) return;
      checkModbusDevice(d, devAt, checks);
      checkDevicePoints(d, devAt, profiles, checks);
      if (!checks.clean([...devAt, 'unit_id'])) return;
      const earlier = firstUnit.get(d.unit_id);
      if (earlier) checks.invalid([...devAt, 'unit_id'], `unit id ${d.unit_id} is already used on bus ${bus.name} by ${checks.describe(earlier)}: two slaves with one address answer over each other`);
      else firstUnit.set(d.unit_id, devAt);
    });
  });
}
