/**
 * Source kind `modbus_tcp`: Modbus TCP devices (Modbus Messaging on TCP/IP V1.0b). Each device has its
 * own connection, unless devices name the same `connection` (a Modbus TCP gateway in front of several
 * unit ids): then they share one, served by one arbiter. Transactions are matched by transaction id,
 * and `in_flight` of them may be outstanding on a connection where the device allows it.
 */
import { DEFAULTS } from '../config/defaults.js';
import { backoff as backoffOf, known } from '../config/resolve-pipeline.js';
import { backoff, name } from '../config/schema-fragments.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { ResolvedLink } from '../config/resolved.js';
import { parseDuration } from '../config/units.js';
import { tcpTransport } from '../../hal/tcp.js';
import { checkDevicePoints, writtenModbusDevices } from './modbus-points.js';
import { modbusDeviceProperties } from './modbus-point-schema.js';
import { checkModbusDevice, modbusDeviceDraft } from './modbus-device.js';
import type { SourceKind } from './source-kind.js';

/** The largest Modbus TCP frame: MBAP 7 + PDU 253 (Modbus Messaging on TCP/IP, 4.1). */
export const MODBUS_TCP_MAX_ADU = 260;

const D = DEFAULTS.modbusDevice;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host'],
  properties: {
    ...modbusDeviceProperties({ interval: D.interval, timeout: D.timeout, retries: D.retries, unitId: D.unitId }),
    host: { type: 'string', minLength: 1, description: 'host name or IP address' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port', default: D.port },
    backoff: backoff('reconnect back-off', D.backoffMin, D.backoffMax),
    in_flight: { type: 'integer', minimum: 1, maximum: 16, description: 'transactions outstanding at once on the connection (the device must allow it)', default: D.inFlight },
    connection: name('devices naming the same connection share one TCP connection (a gateway with several unit ids)'),
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['devices'],
  properties: { devices: { type: 'array', minItems: 1, items: device } },
} as const;

export type ModbusTcpDocument = SchemaDocument<typeof schema>;
export type ModbusTcpDeviceDocument = ModbusTcpDocument['devices'][number];

export const modbusTcp = {
  name: 'modbus_tcp' as const,
  summary: 'Modbus TCP devices, one connection each unless they name a shared `connection`.',
  schema,

  devices: (doc, at, checks, profiles) =>
    writtenModbusDevices(doc.devices, [...at, 'devices'], checks, profiles).map((w) => {
      // Entries the schema refused are left out, so the index is the written one, not the position here.
      const d = doc.devices[w.at[w.at.length - 1] as number]!;
      const name = d.connection ?? d.name;
      return { ...w, link: { name, key: `modbus_tcp/${d.connection !== undefined ? `connection/${d.connection}` : `device/${d.name}`}`, endpoint: `${d.host}:${d.port}` } };
    }),

  check(doc, at, checks, profiles) {
    const firstOfConnection = new Map<string, SharedConnection>();
    if (!checks.intact([...at, 'devices'])) return;
    doc.devices.forEach((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return;
      checkModbusDevice(d, where, checks);
      checks.backoff([...where, 'backoff'], d.backoff);
      checkDevicePoints(d, where, profiles, checks);
      if (d.connection !== undefined && checks.clean(where)) checkShared(d, where, firstOfConnection, checks);
    });
  },

  resolve(doc, at, build) {
    const byConnection = new Map<string, number>();
    doc.devices.forEach((d, i) => {
      let link = d.connection === undefined ? undefined : byConnection.get(d.connection);
      if (link === undefined) {
        link = build.link({
          at: [...at, 'devices', i],
          name: d.connection ?? d.name,
          kind: 'modbus_tcp',
          framing: 'tcp',
          transport: 'tcp',
          host: d.host,
          port: d.port,
          inFlight: d.in_flight,
          silenceMs: 0,
          maxFrameBytes: MODBUS_TCP_MAX_ADU,
          connectTimeoutMs: known(parseDuration(d.timeout)),
          backoff: backoffOf(d.backoff),
        });
        if (d.connection !== undefined) byConnection.set(d.connection, link);
      }
      build.modbusDevice({ ...modbusDeviceDraft(d, 'modbus_tcp', 'tcp'), address: `${d.host}:${d.port}` }, link, d, [...at, 'devices', i]);
    });
  },

  transport: (link: ResolvedLink) => {
    if (link.transport !== 'tcp') throw new TypeError(`modbus_tcp link ${link.name} is not a TCP link`);
    return tcpTransport({ device: link.name, host: link.host, port: link.port, connectTimeoutMs: link.connectTimeoutMs, rxLimitBytes: link.maxFrameBytes * link.inFlight });
  },
} satisfies SourceKind<ModbusTcpDocument>;

/**
 * Devices sharing a connection must agree on where it goes and how it behaves, and be different units
 * behind it: two entries with one unit id on one connection are one slave read twice, or two slaves a
 * gateway cannot tell apart.
 */
function checkShared(d: ModbusTcpDeviceDocument, at: SettingPath, first: Map<string, SharedConnection>, checks: SettingChecks): void {
  const earlier = first.get(d.connection as string);
  if (!earlier) return void first.set(d.connection as string, { d, at, units: new Map([[d.unit_id, at]]) });
  for (const key of ['host', 'port', 'in_flight'] as const) {
    if (d[key] !== earlier.d[key]) {
      checks.conflict([...at, key], [...earlier.at, key], `devices on connection ${d.connection} share one TCP connection, so their ${key} must agree (${String(d[key])} here, ${String(earlier.d[key])} there)`);
    }
  }
  const sameUnit = earlier.units.get(d.unit_id);
  if (sameUnit) checks.invalid([...at, 'unit_id'], `unit id ${d.unit_id} is already used on connection ${d.connection} by ${checks.describe(sameUnit)}: one unit id behind one connection is one device`);
  else earlier.units.set(d.unit_id, at);
}

interface SharedConnection {
  d: ModbusTcpDeviceDocument;
  at: SettingPath;
  units: Map<number, SettingPath>;
}
