/**
 * Source kind `modbus_rtu_over_tcp`: RTU frames over a TCP connection to a serial device server (a
 * Moxa NPort, a USR-TCP232, an Ethernet gateway in transparent mode). The connection stands for the
 * serial bus behind it, so it gets the bus's treatment: RTU framing, one transaction at a time, and a
 * device that does not answer never costs the others their connection.
 */
import { backoff as backoffOf, known } from '../config/resolve-pipeline.js';
import type { ResolvedLink } from '../config/resolved.js';
import { parseDuration } from '../config/units.js';
import { tcpTransport } from '../../hal/tcp.js';
import { modbusDeviceDraft } from './modbus-device.js';
import { busDevices, busesSchema, checkBuses, MODBUS_RTU_MAX_ADU, rtuBusProperties } from './rtu-bus.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { SourceKind } from './source-kind.js';

/** Opening a TCP connection to a device server on a LAN: refused or answered in well under this. */
const CONNECT_TIMEOUT_MS = 5_000;

const bus = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'port', 'devices'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'host name or IP address of the serial device server' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'its TCP port for the serial line (often 4001 or 502)' },
    ...rtuBusProperties('quiet time between transactions (default 0: the device server keeps the serial timing)'),
  },
} as const;

const schema = busesSchema(bus);

export type ModbusRtuOverTcpDocument = SchemaDocument<typeof schema>;
export type TcpBusDocument = ModbusRtuOverTcpDocument['buses'][number];

export const modbusRtuOverTcp = {
  name: 'modbus_rtu_over_tcp' as const,
  summary: 'Modbus RTU frames over TCP to a serial device server: the bus behind it is served like a serial bus.',
  schema,

  devices: (doc, at, checks, profiles) => busDevices(doc.buses, at, checks, profiles, (b) => `${(b as TcpBusDocument).host}:${(b as TcpBusDocument).port}`),

  check: (doc, at, checks, profiles) => checkBuses(doc.buses, at, checks, profiles),

  resolve(doc, at, build) {
    doc.buses.forEach((b, i) => {
      const link = build.link({
        at: [...at, 'buses', i],
        name: b.name,
        kind: 'modbus_rtu_over_tcp',
        framing: 'rtu',
        transport: 'tcp',
        host: b.host,
        port: b.port,
        inFlight: 1,
        silenceMs: b.silence === undefined ? 0 : known(parseDuration(b.silence)),
        maxFrameBytes: MODBUS_RTU_MAX_ADU,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        backoff: backoffOf(b.backoff),
      });
      b.devices.forEach((d, j) => build.modbusDevice({ ...modbusDeviceDraft(d, 'modbus_rtu_over_tcp', 'rtu'), address: `${b.host}:${b.port} unit ${d.unit_id}` }, link, d, [...at, 'buses', i, 'devices', j]));
    });
  },

  transport: (link: ResolvedLink) => {
    if (link.transport !== 'tcp') throw new TypeError(`modbus_rtu_over_tcp link ${link.name} is not a TCP link`);
    return tcpTransport({ device: link.name, host: link.host, port: link.port, connectTimeoutMs: link.connectTimeoutMs, rxLimitBytes: link.maxFrameBytes });
  },
} satisfies SourceKind<ModbusRtuOverTcpDocument>;
