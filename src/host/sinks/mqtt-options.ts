/**
 * Settings of one MQTT uplink: the plain typed value `MqttSink` is built from (the config loader maps
 * the gateway file's `uplinks:` entry onto it), its defaults, and the checks that reject a
 * contradiction at construction, naming the setting, instead of failing later on the wire.
 */
import { WgError } from '../errors.js';
import type { SinkQos } from './sink.js';

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
  /** `mqtt://host:port` (plain) or `mqtts://host:port` (TLS). */
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
  /** Only with an `mqtts://` url. */
  readonly tls?: MqttTlsOptions;
}

export interface ResolvedMqttSinkOptions extends Required<Omit<MqttSinkOptions, 'username' | 'password' | 'tls'>> {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: MqttTlsOptions | undefined;
  /** `keepaliveMs` as the protocol carries it, in seconds. */
  readonly keepaliveSeconds: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_OFFLINE_QUEUE_LIMIT = 100_000; // messages; the durable buffer upstream holds the rest
const MAX_KEEPALIVE_MS = 65_535_000; // the CONNECT packet's keepalive is a 16-bit count of seconds

/** Applies defaults and rejects what cannot work, with `WG_ERR_CONFIG_INVALID`/`_CONFLICT`. */
export function resolveMqttSinkOptions(options: MqttSinkOptions): ResolvedMqttSinkOptions {
  const uplink = options.name;
  // The option name goes into the message itself (not `context.setting`, which toString() would print
  // a second time), so the message alone tells an operator what to fix.
  const invalid = (option: string, detail: string) =>
    new WgError('WG_ERR_CONFIG_INVALID', { uplink, option, detail: `uplink ${uplink} "${option}": ${detail}` });
  const conflict = (detail: string) => new WgError('WG_ERR_CONFIG_CONFLICT', { uplink, detail: `uplink ${uplink}: ${detail}` });

  let protocol: string;
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    throw invalid('url', `"${options.url}" is not a URL`);
  }
  if (protocol !== 'mqtt:' && protocol !== 'mqtts:') {
    throw invalid('url', `scheme ${protocol} is not supported (use mqtt:// or mqtts://)`);
  }
  if (options.tls && protocol !== 'mqtts:') throw conflict('"tls" is set but "url" is not mqtts://');
  if (options.tls && (options.tls.cert === undefined) !== (options.tls.key === undefined)) {
    throw conflict('"tls.cert" and "tls.key" must be given together');
  }
  if (options.password !== undefined && options.username === undefined) {
    throw conflict('"password" is set without "username"');
  }
  if (!(options.keepaliveMs >= 0 && options.keepaliveMs <= MAX_KEEPALIVE_MS)) {
    throw invalid('keepaliveMs', `must be between 0 and ${MAX_KEEPALIVE_MS}`);
  }
  const { minMs, maxMs } = options.reconnect;
  if (!(minMs > 0)) throw invalid('reconnect.minMs', 'must be greater than 0');
  if (!(maxMs >= minMs)) throw conflict(`"reconnect.maxMs" (${maxMs}) is less than "reconnect.minMs" (${minMs})`);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!(connectTimeoutMs > 0)) throw invalid('connectTimeoutMs', 'must be greater than 0');
  const offlineQueueLimit = options.offlineQueueLimit ?? DEFAULT_OFFLINE_QUEUE_LIMIT;
  if (!(Number.isInteger(offlineQueueLimit) && offlineQueueLimit >= 0)) {
    throw invalid('offlineQueueLimit', 'must be a whole number of messages, 0 or more');
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
  });
}
