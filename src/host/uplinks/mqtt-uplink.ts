/**
 * The MQTT uplink kind: a broker at mqtt://, mqtts://, ws:// or wss://, MQTT 5 or 3.1.1, with TLS
 * (server verification, client certificates), user name and password (written, from a file or from an
 * environment variable), keep-alive, reconnect back-off, a default QoS for the pipelines that publish
 * to it, the gateway's retained status with its last will (mqtt-status-settings.ts), persistent
 * sessions and MQTT 5 message expiry. Its sink is src/host/sinks/mqtt.ts.
 */
import { readFile } from 'node:fs/promises';
import { checkTlsPem } from './mqtt-tls-files.js';
import { resolve } from 'node:path';
import { DEFAULTS, defaultClientId } from '../config/defaults.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { ResolvedMqttUplink, ResolvedUplink } from '../config/resolved.js';
import { backoff, known } from '../config/resolve-pipeline.js';
import { duration } from '../config/schema-fragments.js';
import { MQTT_CONNECTION } from './mqtt-connection-schema.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import type { UplinkContext, UplinkKind } from './uplink-kind.js';
import { checkOutbox, outboxSchema, resolveOutbox } from './outbox-settings.js';
import { checkMqttStatus, mqttStatusSchema, resolveMqttStatus } from './mqtt-status-settings.js';
import { MAX_EXPIRY_S } from '../sinks/mqtt-options.js';

/** Longest keep-alive MQTT can carry: a 16-bit number of seconds. */
const MQTT_MAX_KEEPALIVE_S = 65_535;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: MQTT_CONNECTION.url,
    client_id: MQTT_CONNECTION.client_id,
    username: MQTT_CONNECTION.username,
    password: MQTT_CONNECTION.password,
    password_file: MQTT_CONNECTION.password_file,
    password_env: MQTT_CONNECTION.password_env,
    qos: { enum: [0, 1], description: 'default QoS of pipelines publishing here', default: DEFAULTS.mqtt.qos },
    keepalive: MQTT_CONNECTION.keepalive,
    reconnect: MQTT_CONNECTION.reconnect,
    tls: MQTT_CONNECTION.tls,
    protocol: MQTT_CONNECTION.protocol,
    clean_session: MQTT_CONNECTION.clean_session,
    session_expiry: MQTT_CONNECTION.session_expiry,
    message_expiry: duration('MQTT 5: how long after it was made the broker may still hand a message out; none by default'),
    status: mqttStatusSchema,
    outbox: outboxSchema,
  },
} as const;

export type MqttDocument = SchemaDocument<typeof schema>;

export const mqttUplink = {
  name: 'mqtt' as const,
  summary: 'An MQTT broker (mqtt://, mqtts://, ws://, wss://), MQTT 5 where it speaks it, else 3.1.1: TLS with server verification and client certificates, user name and password (from a file or an environment variable), a retained online/offline status with the last will, persistent sessions, MQTT 5 user properties, message expiry and reason codes, keep-alive and reconnect back-off.',
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
      protocol: uplink.protocol,
      cleanSession: uplink.cleanSession,
      ...(uplink.sessionExpiryMs !== null ? { sessionExpiryMs: uplink.sessionExpiryMs } : {}),
      ...(uplink.messageExpiryMs !== null ? { messageExpiryMs: uplink.messageExpiryMs } : {}),
      ...(uplink.status !== null ? { status: uplink.status } : {}),
    }, logger); // the sink binds its uplink name itself
  },
} satisfies UplinkKind<MqttDocument>;

async function checkMqtt(mqtt: MqttDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
  const connection = checkMqttConnection(mqtt, at, checks);
  checkMqttStatus(mqtt.status, [...at, 'status'], checks);
  const outboxIntact = checks.intact([...at, 'outbox']);
  if (String(mqtt.protocol) === '3.1.1' && outboxIntact && mqtt.outbox.mark === 'properties' && checks.source.has([...at, 'outbox', 'mark'])) {
    checks.conflict([...at, 'outbox', 'mark'], [...at, 'protocol'], 'mark: properties needs MQTT 5 (user properties) and protocol is 3.1.1: every message would go unmarked; use fields or auto');
  }
  checkOutbox(mqtt.outbox, [...at, 'outbox'], checks);
  // Retained online/offline words and the drop report's JSON on one topic: a consumer of either would read the other's.
  if (outboxIntact && checks.intact([...at, 'status']) && typeof mqtt.status.topic === 'string' && mqtt.status.topic === mqtt.outbox.report_topic) {
    const report = [...at, 'outbox', 'report_topic'];
    const status = [...at, 'status', 'topic'];
    const detail = `the status and the drop report on one topic (${mqtt.status.topic}): give each a topic of its own`;
    if (checks.source.has(report)) checks.conflict(report, status, detail);
    else checks.conflict(status, report, detail);
  }
  await connection;
}

/** The settings of a broker connection, as the uplink and the `mqtt_subscribe` source both write them. */
export type MqttConnectionDocument = Pick<MqttDocument, 'url' | 'username' | 'password' | 'password_file' | 'password_env' | 'keepalive' | 'reconnect' | 'tls' | 'protocol' | 'clean_session' | 'session_expiry'>
  & { message_expiry?: MqttDocument['message_expiry'] };

/**
 * The checks of a broker connection: URL, credentials, session, keep-alive, back-off, TLS and its
 * files. Shared with the `mqtt_subscribe` source (sources/mqtt-subscribe.ts), whose `broker:` takes
 * these settings.
 */
export async function checkMqttConnection(mqtt: MqttConnectionDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
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
  const passwordKeys = (['password', 'password_file', 'password_env'] as const).filter((key) => mqtt[key] !== undefined);
  const passwordKey = passwordKeys[0];
  if (mqtt.username === undefined && passwordKey !== undefined && checks.clean([...at, passwordKey])) {
    checks.report([...at, passwordKey], 'WG_ERR_CONFIG_CONFLICT', { detail: `${passwordKey} needs username: MQTT 3.1.1 sends a password only with a user name` });
  }
  if (passwordKeys.length > 1) {
    const [first, second] = passwordKeys as [string, string];
    checks.conflict([...at, second], [...at, first], `${second} and ${first} exclude each other: keep one`);
  } else if (mqtt.password_file !== undefined) {
    pending.push(checks.readableFile([...at, 'password_file'], mqtt.password_file, 'password file'));
  } else if (mqtt.password_env !== undefined && checks.clean([...at, 'password_env'])) {
    const value = process.env[mqtt.password_env];
    // An empty variable is what a secret that never got filled in looks like (`Environment=MQTT_PASSWORD=`).
    if (value === undefined) checks.invalid([...at, 'password_env'], `names the environment variable ${mqtt.password_env}, which is not set`);
    else if (value === '') checks.invalid([...at, 'password_env'], `names the environment variable ${mqtt.password_env}, which is empty`);
  }
  checkSession(mqtt, at, checks);

  const keepalive = checks.duration([...at, 'keepalive'], mqtt.keepalive);
  if (keepalive !== undefined && keepalive % 1000 !== 0) {
    checks.invalid([...at, 'keepalive'], `must be whole seconds: MQTT sends it in seconds (got ${String(mqtt.keepalive)})`);
  } else if (keepalive !== undefined && keepalive / 1000 > MQTT_MAX_KEEPALIVE_S) {
    checks.invalid([...at, 'keepalive'], `must be at most ${MQTT_MAX_KEEPALIVE_S}s (got ${String(mqtt.keepalive)})`);
  }
  checks.backoff([...at, 'reconnect'], mqtt.reconnect);

  // The schema fills in `tls: {}`; only a tls block the operator wrote can contradict the URL.
  if (checks.source.has([...at, 'tls']) && checks.intact([...at, 'tls'])) {
    const tls = mqtt.tls;
    if (url !== undefined && url.protocol !== 'mqtts:' && url.protocol !== 'wss:') {
      checks.conflict([...at, 'tls'], [...at, 'url'], `tls is given but the URL scheme ${url.protocol}// is not encrypted: use mqtts:// or wss://, or remove tls`);
    }
    if (tls.cert !== undefined && tls.key === undefined) checks.conflict([...at, 'tls', 'cert'], [...at, 'tls', 'key'], 'cert needs key, its private key');
    if (tls.key !== undefined && tls.cert === undefined) checks.conflict([...at, 'tls', 'key'], [...at, 'tls', 'cert'], 'key needs cert, the certificate it belongs to');
    const readable: Promise<void>[] = [];
    for (const file of ['ca', 'cert', 'key'] as const) {
      const written = tls[file];
      if (written !== undefined) readable.push(checks.readableFile([...at, 'tls', file], written, `TLS ${file}`));
    }
    pending.push(Promise.all(readable).then(() => checkTlsPem(tls, [...at, 'tls'], checks)));
  }
  await Promise.all(pending);
}

/** Sessions and message expiry: whole seconds, the MQTT 5 ones refused where they cannot apply. */
function checkSession(mqtt: MqttConnectionDocument, at: SettingPath, checks: SettingChecks): void {
  const only311 = String(mqtt.protocol) === '3.1.1';
  for (const key of ['session_expiry', 'message_expiry'] as const) {
    const written = mqtt[key];
    if (written === undefined) continue;
    const ms = checks.duration([...at, key], written, true);
    if (ms === undefined) continue;
    if (ms % 1000 !== 0) checks.invalid([...at, key], `must be whole seconds: MQTT 5 sends it in seconds (got ${String(written)})`);
    else if (ms / 1000 > MAX_EXPIRY_S) checks.invalid([...at, key], `must be at most ${MAX_EXPIRY_S}s (got ${String(written)})`);
    else if (only311) checks.conflict([...at, key], [...at, 'protocol'], `${key} is MQTT 5 and protocol is 3.1.1, which cannot carry it`);
    else if (key === 'session_expiry' && mqtt.clean_session) {
      checks.conflict([...at, key], [...at, 'clean_session'], 'session_expiry keeps a session, and clean_session is true (the default): set clean_session: false, or remove session_expiry');
    }
  }
}

async function resolveMqtt(name: string, mqtt: MqttDocument, { gatewayId, base }: UplinkContext): Promise<ResolvedMqttUplink> {
  const secure = /^(mqtts|wss):/.test(mqtt.url);
  const password =
    mqtt.password_file !== undefined
      ? (await readFile(resolve(base, mqtt.password_file), 'utf8')).replace(/\r?\n$/, '')
      : mqtt.password_env !== undefined
        ? (process.env[mqtt.password_env] ?? null) // checked set at load
        : (mqtt.password ?? null);
  const protocol = String(mqtt.protocol) as ResolvedMqttUplink['protocol'];
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
    protocol,
    cleanSession: mqtt.clean_session,
    sessionExpiryMs: mqtt.clean_session ? null : known(parseDuration(mqtt.session_expiry ?? DEFAULTS.mqtt.sessionExpiry)),
    messageExpiryMs: mqtt.message_expiry !== undefined ? known(parseDuration(mqtt.message_expiry)) : null,
    status: resolveMqttStatus(mqtt.status, { gateway: gatewayId, uplink: name }),
    outbox: resolveOutbox(mqtt.outbox, { gateway: gatewayId, uplink: name }),
  };
}
