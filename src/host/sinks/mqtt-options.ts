/**
 * Settings of one MQTT uplink: the plain typed value `MqttSink` is built from (the config loader maps
 * the gateway file's `uplinks:` entry onto it), its defaults, and the checks that reject a
 * contradiction at construction, naming the setting, instead of failing later on the wire.
 *
 * The config loader makes the same checks with a file position (gateway-checks.ts), so `validate`
 * refuses whatever this refuses; each refusal names its rule, and a test walks every rule through
 * both (test/unit/validate-run-agreement.test.ts).
 */
import { WgError } from '../errors.js';
import type { SinkQos } from './sink.js';
import type { MarkMode } from './message-mark.js';
// A longer reconnect delay would fire after 1 ms: MQTT.js would reconnect in a tight loop.
import { MAX_TIMER_MS } from '../config/units.js';

export interface MqttTlsOptions {
  /**
   * PEM contents, not paths: the config loader reads the files, so a missing or unreadable file is
   * reported once, with its position in the gateway file, and the sink never touches the file system.
   */
  readonly ca?: Buffer;
  /** Client certificate for mutual TLS (PEM); needs `key`. */
  readonly cert?: Buffer;
  /** Private key of `cert` (PEM); needs `cert`. */
  readonly key?: Buffer;
  /** Refuse a broker whose certificate does not verify against `ca` (or the system CAs). */
  readonly rejectUnauthorized: boolean;
}

export interface MqttSinkOptions {
  /** Uplink name from the gateway file; carried in every error and log line. */
  readonly name: string;
  /** `mqtt://host:port` (plain), `mqtts://host:port` (TLS), `ws://host:port/path` or `wss://host:port/path` (WebSocket, plain or TLS). */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** QoS of a publish that does not say. */
  readonly qos: SinkQos;
  /** MQTT keepalive, in milliseconds; sent to the broker rounded up to whole seconds, 0 disables it. */
  readonly keepaliveMs: number;
  /** Delay before the first reconnection attempt, doubled after each failure up to `maxMs`. */
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  /** How long one connection attempt may wait for the broker's CONNACK (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Messages held in memory while offline before `publish()` rejects (default 100 000 messages). */
  readonly offlineQueueLimit?: number;
  /** Only with an `mqtts://` or `wss://` url. */
  readonly tls?: MqttTlsOptions;
  /** How a stamped message carries its seq and replay flag (message-mark.ts); default `auto`. */
  readonly mark?: MarkMode;
  /**
   * MQTT version: `5`, `3.1.1`, or `auto` (the default): 5 first, and 3.1.1 from the next attempt on
   * once a broker answers that it does not speak 5 (mqtt-protocol.ts).
   */
  readonly protocol?: MqttProtocolSetting;
  /**
   * `false` asks the broker to keep this client's session across connections (3.1.1: clean session
   * off; 5: clean start off and a session expiry interval). Default `true`.
   */
  readonly cleanSession?: boolean;
  /** MQTT 5 session expiry, whole seconds in ms, only with `cleanSession: false` (default 1 day). */
  readonly sessionExpiryMs?: number;
  /** MQTT 5 message expiry, whole seconds in ms, counted from the message's creation; none by default. */
  readonly messageExpiryMs?: number;
  /** The gateway's retained online/offline status and last will (mqtt-status.ts); none when absent. */
  readonly status?: MqttStatusOptions;
}

/** `auto`: MQTT 5 where the broker speaks it, else 3.1.1. */
export type MqttProtocolSetting = 'auto' | '3.1.1' | '5';

export interface MqttStatusOptions {
  /** Where the status goes, retained, QoS 1; no wildcards. */
  readonly topic: string;
  /** Published on every connect. */
  readonly online: string;
  /** The last will: the broker publishes it when the connection is lost without a DISCONNECT. */
  readonly offline: string;
  /** Published by the gateway itself before a clean disconnect (`close()`); the will is not sent then. */
  readonly stopped: string;
}

export interface ResolvedMqttSinkOptions extends Required<Omit<MqttSinkOptions, 'username' | 'password' | 'tls' | 'messageExpiryMs' | 'status'>> {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: MqttTlsOptions | undefined;
  readonly messageExpiryMs: number | undefined;
  readonly status: MqttStatusOptions | undefined;
  /** `keepaliveMs` as the protocol carries it, in seconds. */
  readonly keepaliveSeconds: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_OFFLINE_QUEUE_LIMIT = 100_000; // messages; the durable buffer upstream holds the rest
const MAX_KEEPALIVE_MS = 65_535_000; // the CONNECT packet's keepalive is a 16-bit count of seconds
/** MQTT 5 carries both expiry intervals as four-byte counts of seconds; 0xFFFFFFFF means never. */
export const MAX_EXPIRY_S = 0xffff_fffe;
export const DEFAULT_SESSION_EXPIRY_MS = 86_400_000;
/** URL schemes MQTT.js connects with in Node: TCP, TLS, WebSocket, WebSocket over TLS. */
export const MQTT_URL_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'] as const;
export const MQTT_TLS_SCHEMES = ['mqtts:', 'wss:'] as const;

/**
 * Every refusal of resolveMqttSinkOptions, by name. `fromConfig` says whether a gateway file can lead
 * to it (the rest are options only code sets); each of those has a twin in the config checks.
 */
export const MQTT_OPTION_RULES = {
  'url-parse': { fromConfig: true },
  'url-scheme': { fromConfig: true },
  'tls-scheme': { fromConfig: true },
  'tls-pair': { fromConfig: true },
  'password-without-username': { fromConfig: true },
  'keepalive-range': { fromConfig: true },
  'reconnect-min': { fromConfig: true },
  'reconnect-max-timer': { fromConfig: true },
  'reconnect-order': { fromConfig: true },
  'session-expiry-clean': { fromConfig: true },
  'session-expiry-range': { fromConfig: true },
  'message-expiry-range': { fromConfig: true },
  'status-topic': { fromConfig: true },
  'connect-timeout': { fromConfig: false },
  'offline-queue-limit': { fromConfig: false },
} as const;
export type MqttOptionRule = keyof typeof MQTT_OPTION_RULES;

/** Applies defaults and rejects what cannot work, with `WG_ERR_CONFIG_INVALID`/`_CONFLICT` and the rule's name in `context.rule`. */
export function resolveMqttSinkOptions(options: MqttSinkOptions): ResolvedMqttSinkOptions {
  const uplink = options.name;
  // The option name goes into the message itself (not `context.setting`, which toString() would print
  // a second time), so the message alone tells an operator what to fix.
  const invalid = (rule: MqttOptionRule, option: string, detail: string) =>
    new WgError('WG_ERR_CONFIG_INVALID', { uplink, option, rule, detail: `uplink ${uplink} "${option}": ${detail}` });
  const conflict = (rule: MqttOptionRule, detail: string) => new WgError('WG_ERR_CONFIG_CONFLICT', { uplink, rule, detail: `uplink ${uplink}: ${detail}` });

  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalid('url-parse', 'url', `"${options.url}" is not a URL`);
  }
  if (url.hostname === '') throw invalid('url-parse', 'url', `"${options.url}" names no host`);
  const protocol = url.protocol;
  if (!(MQTT_URL_SCHEMES as readonly string[]).includes(protocol)) {
    throw invalid('url-scheme', 'url', `scheme ${protocol} is not supported (use mqtt://, mqtts://, ws:// or wss://)`);
  }
  if (options.tls && !(MQTT_TLS_SCHEMES as readonly string[]).includes(protocol)) throw conflict('tls-scheme', '"tls" is set but "url" is not mqtts:// or wss://');
  if (options.tls && (options.tls.cert === undefined) !== (options.tls.key === undefined)) {
    throw conflict('tls-pair', '"tls.cert" and "tls.key" must be given together');
  }
  // MQTT 3.1.1 §3.1.2.9: a CONNECT with the password flag must have the user name flag.
  if (options.password !== undefined && options.username === undefined) {
    throw conflict('password-without-username', '"password" is set without "username"');
  }
  if (!(options.keepaliveMs >= 0 && options.keepaliveMs <= MAX_KEEPALIVE_MS)) {
    throw invalid('keepalive-range', 'keepaliveMs', `must be between 0 and ${MAX_KEEPALIVE_MS}`);
  }
  const { minMs, maxMs } = options.reconnect;
  if (!(minMs > 0)) throw invalid('reconnect-min', 'reconnect.minMs', 'must be greater than 0');
  if (!(maxMs <= MAX_TIMER_MS)) throw invalid('reconnect-max-timer', 'reconnect.maxMs', `must be at most ${MAX_TIMER_MS} (the longest timer Node keeps)`);
  if (!(maxMs >= minMs)) throw conflict('reconnect-order', `"reconnect.maxMs" (${maxMs}) is less than "reconnect.minMs" (${minMs})`);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!(connectTimeoutMs > 0 && connectTimeoutMs <= MAX_TIMER_MS)) throw invalid('connect-timeout', 'connectTimeoutMs', `must be greater than 0 and at most ${MAX_TIMER_MS}`);
  const offlineQueueLimit = options.offlineQueueLimit ?? DEFAULT_OFFLINE_QUEUE_LIMIT;
  if (!(Number.isInteger(offlineQueueLimit) && offlineQueueLimit >= 0)) {
    throw invalid('offline-queue-limit', 'offlineQueueLimit', 'must be a whole number of messages, 0 or more');
  }

  const cleanSession = options.cleanSession ?? true;
  if (options.sessionExpiryMs !== undefined && cleanSession) {
    throw conflict('session-expiry-clean', '"sessionExpiryMs" is set but "cleanSession" is true: a clean session ends with its connection');
  }
  const sessionExpiryMs = options.sessionExpiryMs ?? DEFAULT_SESSION_EXPIRY_MS;
  if (!wholeSeconds(sessionExpiryMs, 1)) throw invalid('session-expiry-range', 'sessionExpiryMs', `must be whole seconds, 1 to ${MAX_EXPIRY_S} s`);
  if (options.messageExpiryMs !== undefined && !wholeSeconds(options.messageExpiryMs, 1)) {
    throw invalid('message-expiry-range', 'messageExpiryMs', `must be whole seconds, 1 to ${MAX_EXPIRY_S} s`);
  }
  const status = options.status;
  if (status && (status.topic === '' || /[#+]/.test(status.topic))) {
    throw invalid('status-topic', 'status.topic', `must be a topic to publish to, not empty and without the wildcards # and + (got "${status.topic}")`);
  }

  return Object.freeze({
    name: uplink,
    url: options.url,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    qos: options.qos,
    keepaliveMs: options.keepaliveMs,
    keepaliveSeconds: Math.ceil(options.keepaliveMs / 1000),
    reconnect: Object.freeze({ minMs, maxMs }),
    connectTimeoutMs,
    offlineQueueLimit,
    tls: options.tls ? Object.freeze({ ...options.tls }) : undefined,
    mark: options.mark ?? 'auto',
    protocol: options.protocol ?? 'auto',
    cleanSession,
    sessionExpiryMs,
    messageExpiryMs: options.messageExpiryMs,
    status: status ? Object.freeze({ ...status }) : undefined,
  });
}

function wholeSeconds(ms: number, minS: number): boolean {
  return Number.isInteger(ms) && ms % 1000 === 0 && ms / 1000 >= minS && ms / 1000 <= MAX_EXPIRY_S;
}
