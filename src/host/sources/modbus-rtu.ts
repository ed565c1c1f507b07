/**
 * Source kind `modbus_rtu`: Modbus RTU devices on serial buses (RS-485, RS-232), Modbus over Serial
 * Line V1.02. All devices of a bus share its port and are served one transaction at a time by one
 * arbiter, which keeps the inter-frame silence of 3.5 characters (1.75 ms above 19200 baud).
 */
import { DEFAULTS } from '../config/defaults.js';
import { backoff as backoffOf, known } from '../config/resolve-pipeline.js';
import { duration } from '../config/schema-fragments.js';
import type { ResolvedLink, ResolvedRs485 } from '../config/resolved.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import { serialTransport } from '../../hal/serial.js';
import { rtuInterFrameSilenceMs } from '../../hal/serial-timing.js';
import { modbusDeviceDraft } from './modbus-device.js';
import { busDevices, busesSchema, checkBuses, MODBUS_RTU_MAX_ADU, rtuBusProperties } from './rtu-bus.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { SourceKind } from './source-kind.js';

const R = DEFAULTS.modbusRtu;

const bus = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'port', 'devices'],
  properties: {
    port: { type: 'string', minLength: 1, description: 'serial device path: /dev/ttyUSB0, /dev/ttyAMA0, /dev/serial/by-id/...' },
    baud: { type: 'integer', minimum: 300, maximum: 4_000_000, description: 'bits per second', default: R.baud },
    parity: { enum: ['none', 'even', 'odd'], description: 'parity bit (the Modbus default is even)', default: R.parity },
    data_bits: { enum: [7, 8], description: 'data bits per character (RTU needs 8)', default: R.dataBits },
    stop_bits: { enum: [1, 2], description: 'stop bits per character (2 with no parity, by the spec)', default: R.stopBits },
    rs485: {
      type: 'object',
      additionalProperties: false,
      description: "ask the port's driver for RS-485 mode (Linux TIOCSRS485); refused at open when the port has none",
      properties: {
        rts_on_send: { type: 'boolean', description: 'RTS level while sending', default: true },
        rts_after_send: { type: 'boolean', description: 'RTS level after sending', default: false },
        delay_before_send: duration('RTS set before the first bit', '0ms'),
        delay_after_send: duration('RTS held after the last bit', '0ms'),
        rx_during_tx: { type: 'boolean', description: 'receive while sending (echo of our own frame)', default: false },
      },
    },
    ...rtuBusProperties('quiet time between transactions (default 3.5 characters at the bus speed, 1.75ms above 19200 baud)'),
  },
} as const;

const schema = busesSchema(bus);

export type ModbusRtuDocument = SchemaDocument<typeof schema>;
export type SerialBusDocument = ModbusRtuDocument['buses'][number];
type Rs485Document = NonNullable<SerialBusDocument['rs485']>;

export const modbusRtu = {
  name: 'modbus_rtu' as const,
  summary: 'Modbus RTU devices on serial buses (RS-485): one arbiter per bus, one transaction at a time.',
  schema,

  devices: (doc, at, checks, profiles) => busDevices(doc.buses, at, checks, profiles, (b) => (b as SerialBusDocument).port),

  check(doc, at, checks, profiles) {
    checkBuses(doc.buses, at, checks, profiles);
    if (!checks.intact([...at, 'buses'])) return;
    // One port is one bus: two arbiters on it would send over each other (and the port's lock lets only one open it).
    const firstOfPort = new Map<string, { at: SettingPath; name: string }>();
    doc.buses.forEach((b, i) => {
      const busAt: SettingPath = [...at, 'buses', i];
      if (!checks.intact(busAt)) return;
      if (checks.clean([...busAt, 'port'])) {
        const earlier = firstOfPort.get(b.port);
        if (earlier) checks.conflict([...busAt, 'port'], [...earlier.at, 'port'], `port ${b.port} is bus ${earlier.name}'s already: put the devices of one port on one bus`);
        else firstOfPort.set(b.port, { at: busAt, name: b.name });
      }
      if (b.data_bits === 7) checks.invalid([...busAt, 'data_bits'], 'Modbus RTU sends 8 data bits per character (7 is Modbus ASCII, which wasmgate does not speak)');
      if (b.rs485) {
        // Refusing would be wrong (a later binding may set it); staying silent would leave the operator
        // to find out from the link errors at run.
        checks.hint([...busAt, 'rs485'], 'the serialport binding this build uses cannot set RS-485 mode (no TIOCSRS485), so this bus will fail to open; leave rs485 out for an adapter that switches direction itself, or enable RS-485 mode in the OS (docs/serial.md)');
        checks.duration([...busAt, 'rs485', 'delay_before_send'], b.rs485.delay_before_send, false, true);
        checks.duration([...busAt, 'rs485', 'delay_after_send'], b.rs485.delay_after_send, false, true);
      }
    });
  },

  resolve(doc, at, build) {
    doc.buses.forEach((b, i) => {
      const link = build.link({
        at: [...at, 'buses', i],
        name: b.name,
        kind: 'modbus_rtu',
        framing: 'rtu',
        transport: 'serial',
        path: b.port,
        baudRate: b.baud,
        parity: b.parity,
        dataBits: b.data_bits,
        stopBits: b.stop_bits,
        rs485: b.rs485 ? rs485(b.rs485) : null,
        inFlight: 1,
        silenceMs: b.silence === undefined ? rtuInterFrameSilenceMs({ baudRate: b.baud, dataBits: b.data_bits, parity: b.parity, stopBits: b.stop_bits }) : known(parseDuration(b.silence)),
        maxFrameBytes: MODBUS_RTU_MAX_ADU,
        connectTimeoutMs: 5_000,
        backoff: backoffOf(b.backoff),
      });
      b.devices.forEach((d, j) => build.modbusDevice({ ...modbusDeviceDraft(d, 'modbus_rtu', 'rtu'), address: `${b.port} unit ${d.unit_id}` }, link, d, [...at, 'buses', i, 'devices', j]));
    });
  },

  transport: (link: ResolvedLink) => {
    if (link.transport !== 'serial') throw new TypeError(`modbus_rtu link ${link.name} is not a serial link`);
    return serialTransport({
      device: link.name,
      path: link.path,
      baudRate: link.baudRate,
      parity: link.parity,
      dataBits: link.dataBits,
      stopBits: link.stopBits,
      ...(link.rs485 ? { rs485: {
        rtsOnSend: link.rs485.rtsOnSend, rtsAfterSend: link.rs485.rtsAfterSend, rxDuringTx: link.rs485.rxDuringTx,
        delayRtsBeforeSendMs: link.rs485.delayBeforeSendMs, delayRtsAfterSendMs: link.rs485.delayAfterSendMs,
      } } : {}),
      connectTimeoutMs: link.connectTimeoutMs,
      rxLimitBytes: link.maxFrameBytes,
    });
  },
} satisfies SourceKind<ModbusRtuDocument>;

function rs485(doc: Rs485Document): ResolvedRs485 {
  return {
    rtsOnSend: doc.rts_on_send,
    rtsAfterSend: doc.rts_after_send,
    delayBeforeSendMs: known(parseDuration(doc.delay_before_send)),
    delayAfterSendMs: known(parseDuration(doc.delay_after_send)),
    rxDuringTx: doc.rx_during_tx,
  };
}
