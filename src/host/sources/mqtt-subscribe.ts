/**
 * Source kind `mqtt_subscribe`: devices that publish their readings to an MQTT broker (often a local
 * one on the gateway), taken in by subscribing. The source has a broker connection of its own
 * (`broker:`, the uplink's connection settings), a list of topic patterns whose levels name the
 * device and point (`plant/{device}/{point}`, mqtt-topic-pattern.ts), and the devices and points a
 * topic may name. Each message's payload goes to the decoder as a pushed frame (ABI 1.5), like any
 * push source's body; a topic that names no configured device or point is refused and counted.
 *
 * A pattern without `{device}` names its device with `device:`; one without `{point}` either names
 * its point with `point:`, or stands for its whole device (the payload names the points, as a JSON
 * object of point names does).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { backoff as backoffOf, known } from '../config/resolve-pipeline.js';
import { name, size } from '../config/schema-fragments.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { ResolvedBackoff, ResolvedDevice, ResolvedLink, ResolvedPushPoint, ResolvedTls } from '../config/resolved.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration, parseSize } from '../config/units.js';
import { DEFAULTS } from '../config/defaults.js';
import { checkMqttConnection } from '../uplinks/mqtt-uplink.js';
import { MQTT_CONNECTION } from '../uplinks/mqtt-connection-schema.js';
import { parseTopicPattern } from './mqtt-topic-pattern.js';
import { shownBrokerUrl } from './mqtt-broker-url.js';
import { TopicRoutes } from './mqtt-topic-routes.js';
import type { MqttSubscription, MqttSubscriptionOptions } from './mqtt-subscription.js';
import { PushGate } from './push-gate.js';
import type { PushListenContext, PushListener, PushSourceStatus } from './push-source.js';
import type { SourceKind } from './source-kind.js';

const up = MQTT_CONNECTION;

/** The uplink's connection settings, minus what only a publisher has (its QoS, status, outbox, expiry). */
const broker = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'client_id'],
  description: 'the broker the devices publish to: a connection of this source\'s own, with the uplink\'s connection settings',
  properties: {
    url: up.url,
    // Required: two gateways (or a gateway and its uplink) with one client id knock each other off the
    // broker, and a persistent session is found again only by its client id.
    client_id: { ...up.client_id, description: 'MQTT client identifier of this source; unique on the broker (its session is found by it)' },
    username: up.username,
    password: up.password,
    password_file: up.password_file,
    password_env: up.password_env,
    keepalive: up.keepalive,
    reconnect: up.reconnect,
    tls: up.tls,
    protocol: up.protocol,
    clean_session: {
      ...up.clean_session,
      description: 'false: the broker keeps the subscriptions and the QoS 1 messages not yet acknowledged while the gateway is away (a restart loses none)',
    },
    session_expiry: up.session_expiry,
  },
} as const;

const topic = {
  type: 'object',
  additionalProperties: false,
  required: ['pattern'],
  properties: {
    pattern: { type: 'string', minLength: 1, description: 'topic filter whose whole levels may be {device} and {point}, with + and a final # as in MQTT: plant/{device}/{point}' },
    device: name('the device of every message on this pattern; only for a pattern without {device}'),
    point: name('the point of every message on this pattern; only for a pattern without {point} (without either: the payload names the points)'),
    qos: { enum: [0, 1], description: 'QoS this pattern is subscribed with; default the source\'s qos' },
  },
} as const;

const point = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'point name, unique within its device; {point} in topics, the topic level or payload key that names it' },
    unit: { type: 'string', description: 'unit of the value, as si spells it; default none', default: '' },
    description: { type: 'string', description: 'free text', default: '' },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points'],
  properties: {
    name: name('device name, unique within the pipeline; the topic level {device} names it'),
    points: { type: 'array', minItems: 1, items: point },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['broker', 'topics', 'devices'],
  properties: {
    broker,
    qos: { enum: [0, 1], description: 'QoS the topics are subscribed with: 1, a message is acknowledged once it is in the ingress ring', default: 1 },
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, description: 'messages a second taken on average; over it QoS 0 messages are dropped (counted) and QoS 1 messages wait at the broker', default: 1000 },
    burst: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'messages taken at once above the rate after a quiet spell', default: 200 },
    max_body: size('largest payload taken; larger ones are refused (counted); at most 65535 bytes', '16KiB'),
    topics: { type: 'array', minItems: 1, items: topic },
    devices: { type: 'array', minItems: 1, items: device },
  },
} as const;

export type MqttSubscribeDocument = SchemaDocument<typeof schema>;

/** A pushed record's body length is a u16 (docs/plugin-abi.md, frame batch). */
const MAX_BODY_BYTES = 0xffff;

/** The broker connection as the source's client takes it (sources/mqtt-subscription.ts). */
export interface ResolvedMqttBroker {
  readonly url: string;
  readonly clientId: string;
  readonly username: string | null;
  /** From `password`, read from `password_file` at load, or from `password_env`. */
  readonly password: string | null;
  readonly keepaliveMs: number;
  readonly reconnect: ResolvedBackoff;
  readonly tls: ResolvedTls | null;
  readonly protocol: 'auto' | '3.1.1' | '5';
  readonly cleanSession: boolean;
  readonly sessionExpiryMs: number | null;
}

/** One topic pattern, and the device and point it names when the pattern does not. */
export interface ResolvedTopicPattern {
  readonly pattern: string;
  /** What the broker is asked for (placeholders as +). */
  readonly filter: string;
  readonly qos: 0 | 1;
  /** Device index (`device:`); null: the topic's {device} level names it. */
  readonly device: number | null;
  /** Point id (`point:`); null: the topic's {point} level, or (without {point}) the whole device. */
  readonly point: number | null;
  /** Where the pattern is written, for problems found across the gateway (a subscription loop). */
  readonly at: readonly (string | number)[];
}

export interface ResolvedMqttSubscription {
  readonly broker: ResolvedMqttBroker;
  readonly topics: readonly ResolvedTopicPattern[];
}

/** What the schema cannot say: the broker connection, each pattern and the names it is given. */
export async function checkMqttSubscribe(doc: MqttSubscribeDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
  const pending = checks.intact([...at, 'broker']) ? checkMqttConnection(doc.broker, [...at, 'broker'], checks) : Promise.resolve();
  const bodyBytes = checks.size([...at, 'max_body'], doc.max_body);
  if (bodyBytes !== undefined && bodyBytes > MAX_BODY_BYTES) checks.invalid([...at, 'max_body'], `must be at most ${MAX_BODY_BYTES} bytes: a pushed record carries its body's length in 16 bits (got ${String(doc.max_body)})`);
  const devices = checks.intact([...at, 'devices']) ? doc.devices : undefined;
  devices?.forEach((d, i) => {
    const seen = new Map<string, number>();
    d.points.forEach((p, k) => {
      const earlier = seen.get(p.name);
      if (earlier !== undefined) checks.report([...at, 'devices', i, 'points', k, 'name'], 'WG_ERR_CONFIG_DUPLICATE_NAME', { kind: 'point', name: p.name, detail: checks.describe([...at, 'devices', i, 'points', earlier]) });
      else seen.set(p.name, k);
    });
  });
  if (!checks.intact([...at, 'topics'])) return pending;
  const filters = new Map<string, SettingPath>();
  doc.topics.forEach((t, i) => {
    const where: SettingPath = [...at, 'topics', i];
    const parsed = parseTopicPattern(t.pattern);
    if (!parsed.ok) return checks.invalid([...where, 'pattern'], parsed.reason);
    const { pattern } = parsed;
    const same = filters.get(pattern.filter);
    if (same) checks.conflict([...where, 'pattern'], [...same, 'pattern'], `asks the broker for ${pattern.filter}, as ${checks.describe([...same, 'pattern'])} does: one subscription per filter`);
    else filters.set(pattern.filter, where);
    if (t.device !== undefined && pattern.hasDevice) checks.conflict([...where, 'device'], [...where, 'pattern'], `the pattern names the device by its {device} level; device: would say it twice`);
    if (t.point !== undefined && pattern.hasPoint) checks.conflict([...where, 'point'], [...where, 'pattern'], `the pattern names the point by its {point} level; point: would say it twice`);
    if (t.device === undefined && !pattern.hasDevice) checks.invalid([...where, 'pattern'], 'names no device: give it a {device} level, or say device: for every message on it');
    if (t.point !== undefined && t.device === undefined) checks.invalid([...where, 'point'], 'needs device: a point is named within its device');
    if (!devices) return;
    const named = t.device === undefined ? undefined : devices.find((d) => d.name === t.device);
    if (t.device !== undefined && !named) checks.invalid([...where, 'device'], `names no device of this source (it has ${devices.map((d) => d.name).join(', ')})`);
    if (named && t.point !== undefined && !named.points.some((p) => p.name === t.point)) {
      checks.invalid([...where, 'point'], `device ${named.name} has no point ${t.point} (it has ${named.points.map((p) => p.name).join(', ')})`);
    }
  });
  return pending;
}

/** The broker connection, resolved at load (a password file is read now, as the uplink's is). */
export function resolveMqttBroker(b: MqttSubscribeDocument['broker'], base: string): ResolvedMqttBroker {
  const secure = /^(mqtts|wss):/.test(b.url);
  const password = b.password_file !== undefined
    ? readFileSync(resolve(base, b.password_file), 'utf8').replace(/\r?\n$/, '')
    : b.password_env !== undefined ? (process.env[b.password_env] ?? null) : (b.password ?? null);
  return {
    url: b.url,
    clientId: b.client_id,
    username: b.username ?? null,
    password,
    keepaliveMs: known(parseDuration(b.keepalive)),
    reconnect: backoffOf(b.reconnect),
    tls: secure
      ? {
          ca: b.tls.ca !== undefined ? resolve(base, b.tls.ca) : null,
          cert: b.tls.cert !== undefined ? resolve(base, b.tls.cert) : null,
          key: b.tls.key !== undefined ? resolve(base, b.tls.key) : null,
          rejectUnauthorized: b.tls.reject_unauthorized,
        }
      : null,
    protocol: String(b.protocol) as ResolvedMqttBroker['protocol'],
    cleanSession: b.clean_session,
    sessionExpiryMs: b.clean_session ? null : known(parseDuration(b.session_expiry ?? DEFAULTS.mqtt.sessionExpiry)),
  };
}

/** The link's name in status and logs: one subscription per pipeline. */
const LINK_NAME = 'mqtt_subscribe';
/**
 * Bodies waiting for room in the ring at once: the listener reads its connection one message at a
 * time (MQTT.js's handleMessage), so never more than one.
 */
const MAX_WAITING = 1;

export const mqttSubscribe = {
  name: 'mqtt_subscribe' as const,
  summary: 'Devices that publish to an MQTT broker: topics subscribed over a connection of the source\'s own, {device} and {point} taken from topic levels, each payload a pushed frame for the decoder; a QoS 1 message acknowledged once it is in the ingress ring.',
  schema,

  devices: (doc, at, checks) => {
    if (!checks.intact([...at, 'devices'])) return [];
    const url = checks.clean([...at, 'broker', 'url']) ? shownBrokerUrl(doc.broker.url) : '';
    return doc.devices.flatMap((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return [];
      return [{ name: d.name, at: where, points: d.points.map((p) => p.name), link: { name: LINK_NAME, key: `mqtt_subscribe/${LINK_NAME}`, endpoint: url } }];
    });
  },

  check: (doc, at, checks) => checkMqttSubscribe(doc, at, checks),

  resolve(doc, at, build) {
    const broker = resolveMqttBroker(doc.broker, build.base);
    const link = build.link({
      at: [...at, 'broker'],
      name: LINK_NAME,
      kind: 'mqtt_subscribe',
      framing: 'push',
      transport: 'push',
      endpoint: shownBrokerUrl(doc.broker.url),
      limits: { ratePerSecond: doc.rate, burst: doc.burst, maxWaiting: MAX_WAITING },
      maxBodyBytes: known(parseSize(doc.max_body)),
      inFlight: 1,
      silenceMs: 0,
      maxFrameBytes: known(parseSize(doc.max_body)),
      connectTimeoutMs: 10_000,
      backoff: broker.reconnect,
      // Filled in below, once the devices have their indexes and points their ids.
      mqtt: { broker, topics: [] },
    });
    const devices = doc.devices.map((d, i) => build.deviceWithPoints({
      name: d.name, kind: 'mqtt_subscribe', framing: 'push', address: `${shownBrokerUrl(doc.broker.url)} (topics)`, unitId: 0,
      intervalMs: 0, timeoutMs: 0, retries: 0, turnaroundMs: 0, quarantineAfter: 0, bacnet: null,
    }, link, [...at, 'devices', i], (index, firstId) => d.points.map((p, k): ResolvedPushPoint => ({
      protocol: 'push', id: firstId + k, name: p.name, device: index, resource: null, unit: p.unit, description: p.description, access: 'read',
    }))));
    const topics = doc.topics.map((t, i): ResolvedTopicPattern => {
      const parsed = parseTopicPattern(t.pattern);
      if (!parsed.ok) throw new TypeError(`topic pattern ${t.pattern} passed the checks but does not parse`);
      const device = t.device === undefined ? undefined : devices.find((d) => d.name === t.device);
      const point = device && t.point !== undefined ? device.points.find((p) => p.name === t.point) : undefined;
      return { pattern: t.pattern, filter: parsed.pattern.filter, qos: t.qos ?? doc.qos, device: device?.index ?? null, point: point?.id ?? null, at: [...at, 'topics', i, 'pattern'] };
    });
    (build.linkAt(link) as { mqtt: ResolvedMqttSubscription }).mqtt = { broker, topics };
  },

  listen(link: ResolvedLink, devices: readonly ResolvedDevice[], context: PushListenContext): PushListener {
    if (link.transport !== 'push' || !link.mqtt) throw new TypeError(`mqtt_subscribe link ${link.name} has no subscription`);
    const { broker, topics } = link.mqtt;
    return new SubscriptionOnStart({
      name: link.name,
      broker,
      filters: topics.map((t) => ({ filter: t.filter, qos: t.qos })),
      routes: new TopicRoutes(topics, devices),
      gate: new PushGate({ name: link.name, kind: link.kind, endpoint: link.endpoint }, link.limits, context),
      log: context.log,
    });
  },
} satisfies SourceKind<MqttSubscribeDocument>;

/**
 * The listener, its client (MQTT.js, about 150 modules) loaded when it starts: a command that only
 * reads the configuration (`validate`, the daemon's config thread) never loads it, as the uplink's
 * sink is loaded only when a gateway runs.
 */
class SubscriptionOnStart implements PushListener {
  readonly #options: MqttSubscriptionOptions;
  #running: MqttSubscription | undefined;
  #stopped = false;

  constructor(options: MqttSubscriptionOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { MqttSubscription } = await import('./mqtt-subscription.js');
    if (this.#stopped) return;
    this.#running = new MqttSubscription(this.#options);
    await this.#running.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#running) await this.#running.stop();
    else this.#options.gate.stop();
  }

  status(): PushSourceStatus {
    return this.#running ? this.#running.status() : this.#options.gate.status({ received: 0, held_back: 0, reconnects: 0, connected: 0, overlap_copies: 0 });
  }
}
