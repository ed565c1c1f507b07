/**
 * The settings document every step receives in wg_configure (docs/plugin-abi.md). Built in one place
 * so the worker's instances and the I/O thread's polling instance see the same document.
 */
import type { ResolvedDevice, ResolvedLink, ResolvedPipeline, ResolvedPoint } from '../config/resolved.js';
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
  const { links } = pipeline.source;
  return { pipeline: pipeline.name, devices: pipeline.source.devices.map((d) => deviceDocument(d, links[d.link]!)), points: pipeline.points.map(pointDocument) };
}

/**
 * The device as plugins see it in the settings document (snake_case, as in the config file): `framing`
 * says how its frames are delimited ("tcp": MBAP header; "rtu": address and CRC), `link` names the bus
 * or connection it shares.
 */
function deviceDocument(d: ResolvedDevice, link: ResolvedLink): Record<string, unknown> {
  const where = link.transport === 'serial' ? { path: link.path } : link.transport === 'push' ? { endpoint: link.endpoint } : { host: link.host, port: link.port };
  // A BACnet device is known by its device instance, and says whether it serves ReadPropertyMultiple.
  const bacnet = d.bacnet === null ? {} : { device_instance: d.bacnet.deviceInstance, read_multiple: d.bacnet.readMultiple, ...covDocument(d.bacnet.cov) };
  return {
    index: d.index, name: d.name, kind: d.kind, link: link.name, framing: d.framing, ...where, unit_id: d.unitId,
    interval_ms: d.intervalMs, timeout_ms: d.timeoutMs, ...bacnet,
  };
}

/** A subscribed BACnet device's SubscribeCOV settings, flat (the decoder builds the requests from them). */
function covDocument(cov: NonNullable<ResolvedDevice['bacnet']>['cov']): Record<string, unknown> {
  return cov === null ? {} : { cov_lifetime_s: cov.lifetimeS, cov_confirmed: cov.confirmed, cov_process_id: cov.processId };
}

function pointDocument(p: ResolvedPoint): Record<string, unknown> & { unit: string } {
  if (p.protocol === 'bacnet') {
    // Numbers for the decoder, names as written for encoders and logs.
    return {
      id: p.id, name: p.name, device: p.device, object_type: p.objectType, instance: p.instance, property: p.property,
      object_type_name: p.objectTypeName, property_name: p.propertyName, unit: p.unit, description: p.description, access: p.access,
      ...(p.writePriority !== null ? { write_priority: p.writePriority } : {}),
    };
  }
  if (p.protocol === 'push') {
    return { id: p.id, name: p.name, device: p.device, ...(p.resource !== null ? { resource: p.resource } : {}), unit: p.unit, description: p.description, access: p.access };
  }
  return {
    id: p.id, name: p.name, device: p.device, function: p.function, address: p.address, type: p.type, order: p.order,
    length: p.length, ...(p.bit !== null ? { bit: p.bit } : {}), unit: p.unit, scale: p.scale, offset: p.offset,
    access: p.access, ...(p.writeFunction !== null ? { write_function: p.writeFunction } : {}),
  };
}
