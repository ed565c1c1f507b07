/**
 * Turns a checked gateway document and its checked pipelines into the deep-frozen `ResolvedGateway`.
 * Only called once every check has passed.
 */
import { resolveMetrics } from '../metrics/metrics-settings.js';
import { resolvePluginSettings } from '../packages/package-settings.js';
import { resolveFleet } from '../fleet/fleet-settings.js';
import { dirname, resolve } from 'node:path';
import { deepFreeze } from './deep-freeze.js';
import { defaultControlSocket, defaultDataDir, defaultPluginDirs } from './defaults.js';
import { uplinkOf } from '../uplinks/uplink-kinds.js';
import type { GatewayDocument } from './gateway-schema.js';
import type { Qos, ResolvedControl, ResolvedGateway } from './resolved.js';
import { known, resolvePipeline, type CheckedPipeline } from './resolve-pipeline.js';
import { parseDuration } from './units.js';

export async function resolveGateway(file: string, doc: GatewayDocument, pipelines: readonly CheckedPipeline[]): Promise<ResolvedGateway> {
  const base = dirname(file);
  const uplinks = await Promise.all(Object.entries(doc.uplinks).map(([name, u]) => {
    const { kind, doc: written } = uplinkOf(u)!;
    return kind.resolve(name, written, { gatewayId: doc.gateway.id, base });
  }));
  const uplinkQos = new Map<string, Qos>(uplinks.map((u) => [u.name, u.qos]));
  const dataDir = dataDirOf(doc, base);
  const gateway: ResolvedGateway = {
    file,
    id: doc.gateway.id,
    dataDir,
    outboxCommitDelayMs: known(parseDuration(doc.gateway.outbox_commit_delay)),
    log: { level: doc.gateway.log.level, format: doc.gateway.log.format },
    pluginDirs: pluginDirsOf(doc, base),
    uplinks,
    pipelines: pipelines.map((p) => resolvePipeline(p, uplinkQos)),
    control: resolveControl(doc.control.socket, base, dataDir),
    metrics: resolveMetrics(doc.metrics),
    plugins: await resolvePluginSettings(doc.plugins, base),
    fleet: resolveFleet(doc.fleet, doc.gateway.id, (name) => {
      const uplink = uplinks.find((u) => u.name === name);
      return uplink?.transport === 'mqtt' ? uplink.clientId : name; // checked an MQTT uplink
    }),
  };
  return deepFreeze(gateway);
}

/** See defaultControlSocket; the checks have refused `true` and a path too long for a socket. */
export function resolveControl(socket: string | boolean | undefined, base: string, dataDir: string): ResolvedControl {
  if (socket === false) return { socket: null, socketFrom: null };
  if (typeof socket === 'string') return { socket: resolve(base, socket), socketFrom: 'control.socket' };
  const fallback = defaultControlSocket(dataDir);
  return { socket: fallback.path, socketFrom: fallback.from };
}

/** The absolute data directory: as written (relative to the gateway file), else defaultDataDir. */
export function dataDirOf(doc: GatewayDocument, base: string): string {
  return doc.gateway.data_dir !== undefined ? resolve(base, doc.gateway.data_dir) : defaultDataDir(base).path;
}

/** Absolute plugin directories: as written (relative to the gateway file), else the package's own. */
export function pluginDirsOf(doc: GatewayDocument | undefined, base: string): string[] {
  return doc?.gateway.plugin_dirs?.map((dir) => resolve(base, dir)) ?? defaultPluginDirs();
}
