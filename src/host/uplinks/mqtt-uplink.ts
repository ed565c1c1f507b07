/**
 * The MQTT uplink kind: a broker at mqtt://, mqtts://, ws:// or wss://, with TLS (server verification,
 * client certificates), user name and password (or a password file), keep-alive, reconnect back-off
 * and a default QoS for the pipelines that publish to it. Its sink is src/host/sinks/mqtt.ts.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULTS, defaultClientId } from '../config/defaults.js';
import type { MqttDocument } from '../config/documents.js';
import type { ResolvedMqttUplink, ResolvedUplink } from '../config/resolved.js';
import { backoff, known } from '../config/resolve-pipeline.js';
import { backoff as backoffSchema, duration, filePath } from '../config/schema-fragments.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import type { UplinkContext, UplinkKind } from './uplink-kind.js';
import { checkOutbox, outboxSchema, resolveOutbox } from './outbox-settings.js';

/** Longest keep-alive MQTT can carry: a 16-bit number of seconds. */
const MQTT_MAX_KEEPALIVE_S = 65_535;

const mqttTls = {
  type: 'object',
  additionalProperties: false,
  description: 'TLS settings; allowed only with mqtts:// or wss://',
  default: {},
  properties: {
    ca: filePath('CA certificate (PEM) that signed the broker certificate'),
    cert: filePath('client certificate (PEM) for mutual TLS; needs key'),
    key: filePath('private key (PEM) of the client certificate; needs cert'),
    reject_unauthorized: {
      type: 'boolean',
      description: 'refuse a broker whose certificate does not verify',
      default: DEFAULTS.mqtt.rejectUnauthorized,
    },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      pattern: '^(mqtt|mqtts|ws|wss)://',
      description: 'broker URL: mqtt://, mqtts://, ws:// or wss://',
    },
    client_id: { type: 'string', minLength: 1, maxLength: 65535, description: 'MQTT client identifier' },
    username: { type: 'string', description: 'user name sent in CONNECT' },
    password: { type: 'string', description: 'password sent in CONNECT; excludes password_file' },
    password_file: filePath('file whose content (one trailing newline removed) is the password; excludes password'),
    qos: { enum: [0, 1], description: 'default QoS of pipelines publishing here', default: DEFAULTS.mqtt.qos },
    keepalive: duration('MQTT keep-alive, whole seconds', DEFAULTS.mqtt.keepalive),
    reconnect: backoffSchema('reconnect back-off', DEFAULTS.mqtt.reconnectMin, DEFAULTS.mqtt.reconnectMax),
    tls: mqttTls,
    outbox: outboxSchema,
  },
} as const;

export const mqttUplink: UplinkKind<MqttDocument> = {
  name: 'mqtt',
  summary: 'An MQTT 3.1.1 broker (mqtt://, mqtts://, ws://, wss://): TLS with server verification and client certificates, user name and password, keep-alive and reconnect back-off.',
  schema,
  check: checkMqtt,
  resolve: resolveMqtt,
  async sink(uplink: ResolvedUplink, logger) {
    if (uplink.transport !== 'mqtt') throw new TypeError(`uplink ${uplink.name} is not an MQTT uplink`);
    const tls = uplink.tls && {
      ca: uplink.tls.ca ? await readFile(uplink.tls.ca) : undefined,
      cert: uplink.tls.cert ? await readFile(uplink.tls.cert) : undefined,
      key: uplink.tls.key ? await readFile(uplink.tls.key) : undefined,
      rejectUnauthorized: uplink.tls.rejectUnauthorized,
    };
    // Loaded when a gateway runs, not when a command only reads the configuration.
    const { MqttSink } = await import('../sinks/mqtt.js');
    return new MqttSink({
      name: uplink.name, url: uplink.url, clientId: uplink.clientId,
      ...(uplink.username !== null ? { username: uplink.username } : {}),
      ...(uplink.password !== null ? { password: uplink.password } : {}),
      qos: uplink.qos, keepaliveMs: uplink.keepaliveMs, reconnect: uplink.reconnect,
      ...(tls ? { tls } : {}),
      mark: uplink.outbox.mark,
    }, logger); // the sink binds its uplink name itself
  },
};

async function checkMqtt(mqtt: MqttDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
  const pending: Promise<void>[] = [];
  let url: URL | undefined;
  if (checks.clean([...at, 'url'])) {
    try {
      url = new URL(mqtt.url);
      if (url.hostname === '') checks.invalid([...at, 'url'], 'must name a host, as in mqtt://broker.example:1883');
    } catch {
      checks.invalid([...at, 'url'], `is not a URL (got ${JSON.stringify(mqtt.url)})`);
    }
  }

  // MQTT 3.1.1 §3.1.2.9: a password may only be sent with a user name (the sink refuses it too).
  // Reported once, at the first password setting written; two of them are a conflict of their own.
  const passwordKey = mqtt.password !== undefined ? 'password' : mqtt.password_file !== undefined ? 'password_file' : undefined;
  if (mqtt.username === undefined && passwordKey !== undefined && checks.clean([...at, passwordKey])) {
    checks.report([...at, passwordKey], 'WG_ERR_CONFIG_CONFLICT', { detail: `${passwordKey} needs username: MQTT 3.1.1 sends a password only with a user name` });
  }
  if (mqtt.password !== undefined && mqtt.password_file !== undefined) {
    checks.conflict([...at, 'password_file'], [...at, 'password'], 'password_file and password exclude each other: keep one');
  } else if (mqtt.password_file !== undefined) {
    pending.push(checks.readableFile([...at, 'password_file'], mqtt.password_file, 'password file'));
  }

  const keepalive = checks.duration([...at, 'keepalive'], mqtt.keepalive);
  if (keepalive !== undefined && keepalive % 1000 !== 0) {
    checks.invalid([...at, 'keepalive'], `must be whole seconds: MQTT sends it in seconds (got ${String(mqtt.keepalive)})`);
  } else if (keepalive !== undefined && keepalive / 1000 > MQTT_MAX_KEEPALIVE_S) {
    checks.invalid([...at, 'keepalive'], `must be at most ${MQTT_MAX_KEEPALIVE_S}s (got ${String(mqtt.keepalive)})`);
  }
  checks.backoff([...at, 'reconnect'], mqtt.reconnect);
  checkOutbox(mqtt.outbox, [...at, 'outbox'], checks);

  // The schema fills in `tls: {}`; only a tls block the operator wrote can contradict the URL.
  if (checks.source.has([...at, 'tls']) && checks.intact([...at, 'tls'])) {
    const tls = mqtt.tls;
    if (url !== undefined && url.protocol !== 'mqtts:' && url.protocol !== 'wss:') {
      checks.conflict([...at, 'tls'], [...at, 'url'], `tls is given but the URL scheme ${url.protocol}// is not encrypted: use mqtts:// or wss://, or remove tls`);
    }
    if (tls.cert !== undefined && tls.key === undefined) checks.conflict([...at, 'tls', 'cert'], [...at, 'tls', 'key'], 'cert needs key, its private key');
    if (tls.key !== undefined && tls.cert === undefined) checks.conflict([...at, 'tls', 'key'], [...at, 'tls', 'cert'], 'key needs cert, the certificate it belongs to');
    for (const file of ['ca', 'cert', 'key'] as const) {
      const written = tls[file];
      if (written !== undefined) pending.push(checks.readableFile([...at, 'tls', file], written, `TLS ${file}`));
    }
  }
  await Promise.all(pending);
}

async function resolveMqtt(name: string, mqtt: MqttDocument, { gatewayId, base }: UplinkContext): Promise<ResolvedMqttUplink> {
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
    outbox: resolveOutbox(mqtt.outbox, { gateway: gatewayId, uplink: name }),
  };
}
