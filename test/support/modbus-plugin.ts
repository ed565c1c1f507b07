/**
 * Driving the built `modbus` decoder plugin in tests: a settings document from a few devices and
 * points, Modbus TCP responses to the plugin's own requests, and frame batches in, samples out. The
 * helpers only assemble bytes the tests spell out; every expected value stays in the tests.
 */
import { encodeFrameBatch, type FrameContext } from '../../src/host/engine/frame-record.js';
import { PluginInstance, type PluginLogLine } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { manifestDefaults } from './manifest-defaults.js';
import { compileBuiltPlugin } from './plugins.js';

// The plugin takes its defaults from the settings the gateway hands over, filled from its manifest.
const { withDefaults } = await manifestDefaults('modbus');

export interface DeviceSetting {
  name: string;
  unit_id?: number;
  host?: string;
  port?: number;
  /** How the device's frames are built (absent: Modbus TCP). */
  framing?: 'tcp' | 'rtu';
}

/** A point as the settings document carries it, without `id` (its index) and `name` (made up when absent). */
export interface PointSetting {
  name?: string;
  device?: number;
  function: number;
  address: number;
  type: string;
  order?: string;
  length?: number | null;
  bit?: number;
  unit?: string;
  scale?: number;
  offset?: number;
  access?: 'read' | 'write' | 'read_write';
  write_function?: number;
}

export interface ModbusSettings {
  devices?: DeviceSetting[];
  points: PointSetting[];
  with?: Record<string, unknown>;
  /** Hand `with` over as written, without the manifest's defaults the gateway fills in. */
  withAsWritten?: boolean;
}

export const FRAME_OK = 0;
export const FRAME_TIMEOUT = 1;
export const FRAME_LINK_LOST = 2;

/** The settings document wg_configure receives (docs/plugin-abi.md). */
export function settingsDocument(settings: ModbusSettings): unknown {
  const devices = settings.devices ?? [{ name: 'plc1', unit_id: 1 }];
  return {
    abi: 1,
    pipeline: 'test',
    step: 0,
    plugin: 'modbus',
    with: settings.withAsWritten ? settings.with ?? {} : withDefaults(settings.with ?? {}),
    devices: devices.map((d, index) => ({ index, host: '127.0.0.1', port: 502, ...d })),
    points: settings.points.map((p, id) => ({ id, name: p.name ?? `p${id}`, device: 0, unit: '', ...p })),
  };
}

export interface ModbusDecoder {
  instance: PluginInstance;
  logs: PluginLogLine[];
}

/** A fresh instance of the built plugin, configured with `settings` (throws what configure throws). */
export function modbusDecoder(settings: ModbusSettings): ModbusDecoder {
  const logs: PluginLogLine[] = [];
  const instance = new PluginInstance(compileBuiltPlugin('modbus'), { onLog: (l) => logs.push(l), logRateLimit: 1e9 });
  instance.configure(settingsDocument(settings));
  return { instance, logs };
}

/** Start address and quantity of a Modbus TCP read request (bytes 8..11 of the ADU). */
export function requestRange(frame: Uint8Array): { unit: number; fn: number; start: number; quantity: number } {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { unit: frame[6]!, fn: frame[7]!, start: view.getUint16(8), quantity: view.getUint16(10) };
}

/** Every request of the plan as [device, fn, start, quantity]. */
export function plan(instance: PluginInstance): Array<[number, number, number, number]> {
  const devices = [...instance.requests()];
  return devices.map((device, r) => {
    const { fn, start, quantity } = requestRange(instance.request(r, 1));
    return [device, fn, start, quantity];
  });
}

/** A Modbus TCP response ADU: MBAP with `tid`, protocol 0, the length of unit + PDU, `unit`, then `pdu`. */
export function tcpAdu(tid: number, unit: number, pdu: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(7 + pdu.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, tid);
  view.setUint16(2, 0);
  view.setUint16(4, 1 + pdu.length);
  out[6] = unit;
  out.set(Array.from(pdu), 7);
  return out;
}

/** The PDU of a good register read: function, byte count, the words big-endian as the wire has them. */
export function registerPdu(fn: number, words: readonly number[]): number[] {
  return [fn, words.length * 2, ...words.flatMap((w) => [w >> 8, w & 0xff])];
}

export interface FrameRecord {
  ctx: FrameContext;
  request: Uint8Array;
  response?: Uint8Array;
}

/**
 * A record answering request `r` of the plan with `pdu` (or a failure `status` with no response): the
 * request built by the plugin itself with `seq`, the response echoing its transaction and unit ids.
 */
export function answer(instance: PluginInstance, r: number, pdu: ArrayLike<number> | null, options: { seq?: number; ts?: number; status?: number } = {}): FrameRecord {
  const seq = options.seq ?? 7;
  const request = instance.request(r, seq);
  const device = instance.requests()[r]!;
  const ctx: FrameContext = { device, request: r, status: options.status ?? (pdu ? FRAME_OK : FRAME_TIMEOUT), seq, ts: options.ts ?? 1_700_000_000_000 };
  return pdu ? { ctx, request, response: tcpAdu(seq, request[6]!, pdu) } : { ctx, request };
}

/** Runs the records through wg_process and decodes the sample batch. */
export function decodeRecords(instance: PluginInstance, records: FrameRecord[]): Sample[] {
  return decodeSamples(instance.process(encodeFrameBatch(records)));
}

/** The lines the plugin logged at warn level or above. */
export function warnings(decoder: ModbusDecoder): string[] {
  return decoder.logs.filter((l) => l.level >= 40).map((l) => l.message);
}
