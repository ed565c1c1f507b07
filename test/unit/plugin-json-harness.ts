/**
 * Driving the built json encoder in tests: configure it the way the host does (settings document with
 * points, devices and pipeline), feed it sample batches, and read back each message as parsed JSON.
 * Payloads are decoded with a fatal UTF-8 decoder, so invalid UTF-8 fails the test that produced it.
 */
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { readMessages } from '../../src/host/engine/message-batch.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

export interface PointDecl {
  name: string;
  unit?: string;
  device?: number;
}

export interface JsonSetup {
  /** The step's `with:`, checked against plugin.yaml with its defaults filled in, as the host hands it over. */
  with?: Record<string, unknown>;
  /** Hand `with` over unchecked, laid over plugin.yaml's defaults: a document the host did not make. */
  raw?: boolean;
  points?: PointDecl[];
  devices?: string[];
  pipeline?: string;
}

export interface Decoded {
  /** Point id of the message, undefined for a message about many points. */
  point: number | undefined;
  text: string;
  json: unknown;
}

export const DEFAULT_POINTS: PointDecl[] = [
  { name: 'boiler.temp', unit: '°C', device: 0 },
  { name: 'line.pressure', unit: 'mbar', device: 1 },
  { name: 'serial', unit: '', device: 0 },
];

let compiled: ReturnType<typeof compileBuiltPlugin> | undefined;
const { withDefaults } = await manifestDefaults('json');

/** `over` laid on `base` member by member, objects merged, anything else replaced. */
function overlay(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = out[key];
    const merge = [under, value].every((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
    out[key] = merge ? overlay(under as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

/** Settings document as the host writes it (docs/plugin-abi.md, wg_configure). */
export function settingsDocument(setup: JsonSetup = {}): unknown {
  const points = setup.points ?? DEFAULT_POINTS;
  const devices = setup.devices ?? ['plc1', 'plc2'];
  return {
    abi: 1,
    pipeline: setup.pipeline ?? 'boiler-room',
    step: 3,
    plugin: 'json',
    with: setup.raw ? overlay(withDefaults({}), setup.with ?? {}) : withDefaults(setup.with ?? {}),
    devices: devices.map((name, index) => ({ index, name, host: '127.0.0.1', port: 502 })),
    points: points.map((p, id) => ({ id, name: p.name, device: p.device ?? 0, unit: p.unit ?? '', register: 40001 + id })),
  };
}

/** A configured json instance; throws WG_ERR_PLUGIN_CONFIGURE like the host when it refuses. */
export function jsonEncoder(setup: JsonSetup = {}, logs: string[] = []): PluginInstance {
  compiled ??= compileBuiltPlugin('json');
  const instance = new PluginInstance(compiled, { onLog: (l) => logs.push(l.message) });
  instance.configure(settingsDocument(setup));
  return instance;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Every message of one output batch, decoded (fatal UTF-8) and parsed. */
export function decodeMessages(batch: Uint8Array): Decoded[] {
  const out: Decoded[] = [];
  for (const m of readMessages(batch)) {
    const text = strictUtf8.decode(m.payload);
    out.push({ point: m.point, text, json: JSON.parse(text) as unknown });
  }
  return out;
}

export function encode(instance: PluginInstance, samples: readonly Sample[]): Decoded[] {
  return decodeMessages(instance.process(encodeSamples(samples)));
}

/**
 * A sample batch whose text samples carry the given raw bytes (possibly invalid UTF-8), which
 * encodeSamples cannot express: each text is encoded from a placeholder of the same length, then
 * overwritten.
 */
export function batchWithRawText(samples: readonly (Omit<Sample, 'value'> & { value: number | Uint8Array })[]): Uint8Array {
  const batch = encodeSamples(samples.map((s) => ({ ...s, value: s.value instanceof Uint8Array ? 'x'.repeat(s.value.length) : s.value })));
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const heapStart = 8 + 24 * samples.length;
  samples.forEach((s, i) => {
    if (!(s.value instanceof Uint8Array)) return;
    const offset = view.getUint32(8 + 24 * i + 8, true);
    batch.set(s.value, heapStart + offset);
  });
  return batch;
}
