/**
 * The settings of a connection to an MQTT broker, as the `mqtt` uplink (mqtt-uplink.ts) and the
 * `mqtt_subscribe` source's `broker:` (sources/mqtt-subscribe.ts) both write them: one declaration,
 * so the two cannot drift apart. Only schema fragments here: the uplink module imports the config
 * resolver, which imports the source kinds, so the source kind takes its schema from this module.
 */
import { DEFAULTS } from '../config/defaults.js';
import { backoff, duration, filePath } from '../config/schema-fragments.js';

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

export const MQTT_CONNECTION = {
  url: {
    type: 'string',
    pattern: '^(mqtt|mqtts|ws|wss)://',
    description: 'broker URL: mqtt://, mqtts://, ws:// or wss://',
  },
  client_id: { type: 'string', minLength: 1, maxLength: 65535, description: 'MQTT client identifier' },
  username: { type: 'string', description: 'user name sent in CONNECT' },
  password: { type: 'string', description: 'password sent in CONNECT; excludes password_file' },
  password_file: filePath('file whose content (one trailing newline removed) is the password; excludes password'),
  password_env: {
    type: 'string',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description: 'environment variable holding the password, read when the configuration is loaded; excludes password and password_file',
  },
  keepalive: duration('MQTT keep-alive, whole seconds', DEFAULTS.mqtt.keepalive),
  reconnect: backoff('reconnect back-off', DEFAULTS.mqtt.reconnectMin, DEFAULTS.mqtt.reconnectMax),
  tls: mqttTls,
  protocol: {
    enum: ['auto', '3.1.1', '5', 5],
    default: 'auto',
    description: 'MQTT version: 5, 3.1.1, or auto (5, and 3.1.1 once the broker answers that it does not speak 5)',
  },
  clean_session: {
    type: 'boolean',
    default: true,
    description: 'false: the broker keeps the session between connections (3.1.1 clean session off; MQTT 5 clean start off with session_expiry)',
  },
  session_expiry: duration('MQTT 5: how long the broker keeps the session after a disconnect; only with clean_session: false (default 24h)'),
} as const;
