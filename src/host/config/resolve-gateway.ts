/**
 * Turns a checked gateway document and its checked pipelines into the deep-frozen `ResolvedGateway`.
 * Only called once every check has passed.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { deepFreeze } from './deep-freeze.js';
import { defaultClientId, defaultPluginDirs } from './defaults.js';
import type { GatewayDocument, MqttDocument } from './documents.js';
import type { Qos, ResolvedGateway, ResolvedMqttUplink } from './resolved.js';
import { backoff, known, resolvePipeline, type CheckedPipeline } from './resolve-pipeline.js';
import { parseDuration } from './units.js';

export async function resolveGateway(file: string, doc: GatewayDocument, pipelines: readonly CheckedPipeline[]): Promise<ResolvedGateway> {
  const base = dirname(file);
  const uplinks = await Promise.all(Object.entries(doc.uplinks).map(([name, u]) => resolveMqtt(name, u.mqtt, doc.gateway.id, base)));
  const uplinkQos = new Map<string, Qos>(uplinks.map((u) => [u.name, u.qos]));
  const gateway: ResolvedGateway = {
    file,
    id: doc.gateway.id,
    dataDir: resolve(base, doc.gateway.data_dir),
    log: { level: doc.gateway.log.level, format: doc.gateway.log.format },
    pluginDirs: pluginDirsOf(doc, base),
    uplinks,
    pipelines: pipelines.map((p) => resolvePipeline(p, uplinkQos)),
  };
  return deepFreeze(gateway);
}

/** Absolute plugin directories: as written (relative to the gateway file), else the package's own. */
export function pluginDirsOf(doc: GatewayDocument | undefined, base: string): string[] {
  return doc?.gateway.plugin_dirs?.map((dir) => resolve(base, dir)) ?? defaultPluginDirs();
}

async function resolveMqtt(name: string, mqtt: MqttDocument, gatewayId: string, base: string): Promise<ResolvedMqttUplink> {
  const secure = /^(mqtts|wss):/.test(mqtt.url);
  const password =
    mqtt.password_file !== undefined
      ? (await readFile(resolve(base, mqtt.password_file), 'utf8')).replace(/\r?\n$/, '')
      : (mqtt.password ?? null);
  const tls = mqtt.tls;
  return {
    name,
    transport: 'mqtt',
    url: mqtt.url,
    clientId: mqtt.client_id ?? defaultClientId(gatewayId),
    username: mqtt.username ?? null,
    password,
    qos: mqtt.qos,
    keepaliveMs: known(parseDuration(mqtt.keepalive)),
    reconnect: backoff(mqtt.reconnect),
    tls: secure
      ? {
          ca: tls.ca !== undefined ? resolve(base, tls.ca) : null,
          cert: tls.cert !== undefined ? resolve(base, tls.cert) : null,
          key: tls.key !== undefined ? resolve(base, tls.key) : null,
          rejectUnauthorized: tls.reject_unauthorized,
        }
      : null,
  };
}
