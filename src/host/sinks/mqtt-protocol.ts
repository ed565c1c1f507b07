/**
 * What the MQTT sink asks MQTT.js for, per protocol version: the CONNECT's flags and properties
 * (clean session or session expiry, the last will), and how the sink moves from 5 to 3.1.1 when a
 * broker does not speak 5.
 *
 * `auto` starts with MQTT 5. A broker that does not speak it answers the CONNECT with return code 1
 * (3.1.1's "unacceptable protocol version", as aedes does) or reason code 0x84; the sink then uses
 * 3.1.1 from its next attempt on, for the rest of its life (a broker is rarely upgraded under a running
 * gateway; a restart tries 5 again). A broker that closes the connection without any CONNACK is not
 * recognised as such: set `protocol: "3.1.1"` for it.
 */
import type { IClientOptions } from 'mqtt';
import type { ResolvedMqttSinkOptions } from './mqtt-options.js';

export type MqttVersion = 4 | 5;

export function firstVersion(options: ResolvedMqttSinkOptions): MqttVersion {
  return options.protocol === '3.1.1' ? 4 : 5;
}

/** "5" or "3.1.1", as the settings spell it. */
export function versionName(version: MqttVersion): '5' | '3.1.1' {
  return version === 5 ? '5' : '3.1.1';
}

function ignoreLog(): void {}

export function clientOptions(o: ResolvedMqttSinkOptions, version: MqttVersion, reconnectPeriod: number): IClientOptions {
  return {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    keepalive: o.keepaliveSeconds,
    connectTimeout: o.connectTimeoutMs,
    reconnectPeriod,
    // A refused CONNACK (bad credentials, broker not ready) can be fixed on the broker side without
    // touching the gateway; an unattended box must keep trying, with the same back-off.
    reconnectOnConnackError: true,
    protocolVersion: version,
    // 3.1.1: the clean session flag; 5: clean start, with the session kept for the expiry interval.
    clean: o.cleanSession,
    ...(version === 5 && !o.cleanSession && { properties: { sessionExpiryInterval: o.sessionExpiryMs / 1000 } }),
    // QoS 1 and retained, so the status topic says "offline" to whoever subscribes later.
    ...(o.status && { will: { topic: o.status.topic, payload: Buffer.from(o.status.offline), qos: 1, retain: true } }),
    resubscribe: false,
    queueQoSZero: true,
    // mqtt-packet otherwise builds a cache of all 65,536 two-byte numbers (packet ids, lengths) at the
    // first packet: about 4 MB of the main heap for good, to save a 2-byte allocation per packet
    // (bench/gateway.bench.ts measures both).
    writeCache: false,
    // MQTT.js logs through `debug` about fifteen times per publish, and each call builds its arguments
    // array even when nothing is enabled; a no-op logger saves that. DEBUG=mqttjs* still gets its output.
    ...(!/mqttjs/.test(process.env.DEBUG ?? '') && { log: ignoreLog }),
    // MQTT.js re-arms its keepalive timer at every PUBACK by default: a timer object per message. The
    // sink's data traffic already tells the broker the client is alive; a PINGREQ every keepalive
    // interval, answered, is all MQTT.js needs to tell a dead link (MQTT 5 §3.1.2.10).
    reschedulePings: false,
    ...(o.tls && { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, rejectUnauthorized: o.tls.rejectUnauthorized }),
  };
}

/** Turns a live MQTT.js client's options to 3.1.1: MQTT.js builds each reconnection's CONNECT from them. */
export function fallBackTo311(options: IClientOptions): void {
  options.protocolVersion = 4;
  delete options.properties;
}
