/**
 * Driving the built `bacnet` decoder plugin in tests: a settings document from a few devices and
 * points, BACnet/IP datagrams around APDUs the tests spell out byte by byte, and frame batches in,
 * samples out. The helpers only wrap bytes (BVLC and NPDU headers, clause 6 and Annex J); every APDU
 * and every expected value stays in the tests.
 */
import { encodeFrameBatch, type FrameContext } from '../../src/host/engine/frame-record.js';
import { PluginInstance, type PluginLogLine } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { manifestDefaults } from './manifest-defaults.js';
import { compileBuiltPlugin } from './plugins.js';

const { withDefaults } = await manifestDefaults('bacnet');

export interface BacnetDeviceSetting {
  name?: string;
  device_instance: number;
  read_multiple?: boolean;
  /** ABI 1.6: SubscribeCOV settings, as the gateway writes them for a device with `cov:`. */
  cov_lifetime_s?: number;
  cov_confirmed?: boolean;
  cov_process_id?: number;
}

export interface BacnetPointSetting {
  name?: string;
  device?: number;
  object_type: number;
  instance: number;
  property: number;
  unit?: string;
  /** Writes (ABI 1.2): "read" (absent), "write" or "read_write", and the priority 1-16 a write commands. */
  access?: 'read' | 'write' | 'read_write';
  write_priority?: number;
}

export interface BacnetSettings {
  devices?: BacnetDeviceSetting[];
  points: BacnetPointSetting[];
  with?: Record<string, unknown>;
}

export const FRAME_OK = 0;
export const FRAME_TIMEOUT = 1;
export const FRAME_LINK_LOST = 2;
export const FRAME_UNSOLICITED = 3;

export function settingsDocument(settings: BacnetSettings): unknown {
  const devices = settings.devices ?? [{ device_instance: 1 }];
  return {
    abi: 1,
    pipeline: 'test',
    step: 0,
    plugin: 'bacnet',
    with: withDefaults(settings.with ?? {}),
    devices: devices.map((d, index) => ({ index, name: `dev${index}`, kind: 'bacnet_ip', framing: 'bacnet_ip', host: '127.0.0.1', port: 47808, ...d })),
    points: settings.points.map((p, id) => ({ id, name: p.name ?? `p${id}`, device: 0, unit: '', ...p })),
  };
}

export interface BacnetDecoder {
  instance: PluginInstance;
  logs: PluginLogLine[];
}

export function bacnetDecoder(settings: BacnetSettings): BacnetDecoder {
  const logs: PluginLogLine[] = [];
  const instance = new PluginInstance(compileBuiltPlugin('bacnet'), { onLog: (l) => logs.push(l), logRateLimit: 1e9 });
  instance.configure(settingsDocument(settings));
  return { instance, logs };
}

/** BVLC Original-Unicast-NPDU and an NPDU (version 1, `control`, `npduExtra` after it) around `apdu`. */
export function datagram(apdu: ArrayLike<number>, options: { control?: number; npduExtra?: number[]; bvlcFunction?: number } = {}): Uint8Array {
  const npdu = [0x01, options.control ?? 0x00, ...(options.npduExtra ?? [])];
  const length = 4 + npdu.length + apdu.length;
  return Uint8Array.from([0x81, options.bvlcFunction ?? 0x0a, length >> 8, length & 0xff, ...npdu, ...Array.from(apdu)]);
}

/** The APDU of a datagram without routing addresses (what this plugin's requests are). */
export function apduOf(frame: Uint8Array): number[] {
  return [...frame.subarray(6)];
}

export interface FrameRecord {
  ctx: FrameContext;
  request: Uint8Array;
  response?: Uint8Array;
}

/** A record answering request `r` (built by the plugin with `seq`) with `response`, or a failure `status`. */
export function answer(instance: PluginInstance, r: number, response: Uint8Array | null, options: { seq?: number; ts?: number; status?: number } = {}): FrameRecord {
  const seq = options.seq ?? 1;
  const request = instance.request(r, seq);
  const device = instance.requests()[r]!;
  const ctx: FrameContext = { device, request: r, status: options.status ?? (response ? FRAME_OK : FRAME_TIMEOUT), seq, ts: options.ts ?? 1_700_000_000_000 };
  return response ? { ctx, request, response } : { ctx, request };
}

/** An unsolicited record (ABI 1.4): request index 0xffff, the sender's address as the request bytes. */
export function unsolicited(frame: Uint8Array, options: { device?: number; sender?: string; ts?: number } = {}): FrameRecord {
  return {
    ctx: { device: options.device ?? 0xffff, request: 0xffff, status: FRAME_UNSOLICITED, seq: 0, ts: options.ts ?? 1_700_000_000_000 },
    request: new TextEncoder().encode(options.sender ?? '127.0.0.1:47808'),
    response: frame,
  };
}

export function decodeRecords(instance: PluginInstance, records: FrameRecord[]): Sample[] {
  return decodeSamples(instance.process(encodeFrameBatch(records)));
}

export function warnings(decoder: BacnetDecoder): string[] {
  return decoder.logs.filter((l) => l.level >= 40).map((l) => l.message);
}

/** [point, value, quality, type] of each sample. */
export function summary(samples: Sample[]): Array<[number, number | string, number, number]> {
  return samples.map((s) => [s.point, s.value, s.quality, s.type ?? 0]);
}
