/**
 * The settings document every step receives in wg_configure (docs/plugin-abi.md). Built in one place
 * so the worker's instances and the I/O thread's polling instance see the same document.
 */
import type { ResolvedDevice, ResolvedPipeline, ResolvedPoint } from '../config/resolved.js';
import type { ChainContext } from './chain.js';

export interface SettingsDocument {
  abi: 1;
  pipeline: string;
  step: number;
  plugin: string;
  with: unknown;
  devices: unknown[];
  points: ChainContext['points'];
}

export function settingsDocument(context: ChainContext, step: number, plugin: string, settings: unknown, points: ChainContext['points'] = context.points): SettingsDocument {
  return { abi: 1, pipeline: context.pipeline, step, plugin, with: settings, devices: context.devices, points };
}

/** What every step of `pipeline` sees of its devices and points. */
export function pipelineContext(pipeline: ResolvedPipeline): ChainContext {
  return { pipeline: pipeline.name, devices: pipeline.source.devices.map(deviceDocument), points: pipeline.points.map(pointDocument) };
}

/**
 * The device as plugins see it in the settings document (snake_case, as in the config file).
 * `framing` is how its frames are built on the wire ("tcp": Modbus TCP; "rtu": RTU, on a serial line
 * or through a serial device server); every source is Modbus TCP until source kinds say otherwise.
 */
function deviceDocument(d: ResolvedDevice): Record<string, unknown> {
  return { index: d.index, name: d.name, host: d.host, port: d.port, unit_id: d.unitId, interval_ms: d.intervalMs, timeout_ms: d.timeoutMs, framing: 'tcp' };
}

function pointDocument(p: ResolvedPoint): Record<string, unknown> & { unit: string } {
  return {
    id: p.id, name: p.name, device: p.device, function: p.function, address: p.address, type: p.type, order: p.order,
    length: p.length, ...(p.bit !== null ? { bit: p.bit } : {}), unit: p.unit, scale: p.scale, offset: p.offset,
    // Who may write the point, and by which function (ABI 1.2 writes); read-only unless configured.
    access: p.access ?? 'read', ...(p.writeFunction != null ? { write_function: p.writeFunction } : {}),
  };
}
