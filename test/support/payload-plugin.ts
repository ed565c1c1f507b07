/**
 * Driving the built `payload` decoder in tests: a settings document of push devices and points, and
 * pushed frame records (ABI 1.5: status 4, the point in the u32 at offset 12, "sender LF resource
 * LF media type" as the request) built from bodies the tests spell out byte by byte.
 */
import { encodeFrameBatch } from '../../src/host/engine/frame-record.js';
import { PluginInstance, type PluginLogLine } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { manifestDefaults } from './manifest-defaults.js';
import { compileBuiltPlugin } from './plugins.js';

const { withDefaults } = await manifestDefaults('payload');

export const FRAME_PUSHED = 4;
export const WHOLE_DEVICE = 0xffffffff;
export const ARRIVED = 1_700_000_000_000;

export interface PayloadDecoder {
  instance: PluginInstance;
  logs: PluginLogLine[];
}

/** `devices`: each device's point names, in order; point ids run across devices in that order. */
export function payloadDecoder(devices: string[][], withSettings: Record<string, unknown> = {}): PayloadDecoder {
  const logs: PluginLogLine[] = [];
  const instance = new PluginInstance(compileBuiltPlugin('payload'), { onLog: (l) => logs.push(l), logRateLimit: 1e9 });
  const points = devices.flatMap((names, device) => names.map((name) => ({ name, device })));
  instance.configure({
    abi: 1, pipeline: 'test', step: 0, plugin: 'payload', with: withDefaults(withSettings),
    devices: devices.map((_, index) => ({ index, name: `dev${index}`, kind: 'coap_server', framing: 'push', endpoint: 'udp 127.0.0.1:5683' })),
    points: points.map((p, id) => ({ id, name: p.name, device: p.device, unit: '', description: '', access: 'read' })),
  });
  return { instance, logs };
}

export interface Pushed {
  body: ArrayLike<number> | string;
  device?: number;
  /** The point the resource maps to; omitted: the whole device. */
  point?: number;
  media?: string;
  sender?: string;
  resource?: string;
  status?: number;
}

export function hex(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-f]/gi, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function pushedBatch(records: Pushed[]): Uint8Array {
  return encodeFrameBatch(records.map((r) => ({
    ctx: { device: r.device ?? 0, request: 0xffff, status: r.status ?? FRAME_PUSHED, seq: 0, ts: ARRIVED, point: r.point ?? WHOLE_DEVICE },
    request: new TextEncoder().encode(`${r.sender ?? '127.0.0.1:40000'}\n${r.resource ?? '/r'}\n${r.media ?? ''}`),
    response: typeof r.body === 'string' ? new TextEncoder().encode(r.body) : Uint8Array.from(r.body),
  })));
}

export function decode(d: PayloadDecoder, records: Pushed[]): Sample[] {
  return decodeSamples(d.instance.process(pushedBatch(records)));
}

/** [point, value, quality, type] of each sample. */
export function summary(samples: Sample[]): Array<[number, number | string, number, number]> {
  return samples.map((s) => [s.point, s.value, s.quality, s.type ?? 0]);
}
