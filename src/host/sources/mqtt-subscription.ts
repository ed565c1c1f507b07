/**
 * The listener of an `mqtt_subscribe` source (MQTT.js): a broker connection of its own (not the
 * uplink's: often another broker, other credentials, and a flood of device messages must not hold up
 * the uplink's PUBACKs), its topic filters subscribed on every connection, reconnect with back-off as
 * the uplink does (sinks/mqtt.ts), and every message handed to the pipeline through MQTT.js's
 * `handleMessage` hook and the push gate (push-gate.ts) every push source shares.
 *
 * Why the hook: MQTT.js calls it for each incoming PUBLISH, sends a QoS 1 message's PUBACK only once
 * its callback is called, and reads no further packet from the connection until then. So the PUBACK
 * goes out after the gate's `commit` resolved true, which is when the reading is committed to the
 * pipeline's ingress ring: a gateway that dies before that never acknowledged the message, and the
 * broker hands it out again (to the same client id, on a persistent session). And a source the
 * pipeline cannot keep up with stops reading its socket: TCP flow control holds the rest at the broker.
 *
 * Over the rate (the gate's token bucket): a QoS 0 message is refused (`rate`, counted), since a
 * broker never sends one again and waiting for it would hold the connection for nothing; a QoS 1
 * message waits for its token unacknowledged (counted in `own.held_back`), and the broker holds the
 * ones behind it: mosquitto up to its max_inflight_messages and max_queued_messages (20 and 1000 by
 * default), past which it drops them itself, counted in its own $SYS topics. Memory here stays one
 * message in hand plus what MQTT.js parsed from one read of the socket.
 *
 * A refused message (a topic that names nothing configured, a payload over max_body) is acknowledged:
 * sent again, it would be refused again, for ever. MQTT does not tell a subscriber who published a
 * message: the topic names its sender, and the gate's log line carries it and this source's broker.
 */
import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { WgError } from '../errors.js';
import type { LevelLog } from '../log-events.js';
import { clientOptions, fallBackTo311, firstVersion, versionName, type MqttVersion } from '../sinks/mqtt-protocol.js';
import { describeConnectError, refusesProtocolVersion } from '../sinks/mqtt-reasons.js';
import { resolveMqttSinkOptions, type MqttTlsOptions, type ResolvedMqttSinkOptions } from '../sinks/mqtt-options.js';
import type { ResolvedMqttBroker } from './mqtt-subscribe.js';
import { shownBrokerUrl } from './mqtt-broker-url.js';
import type { TopicRoutes } from './mqtt-topic-routes.js';
import type { PushGate } from './push-gate.js';
import type { PushedFrame, PushListener, PushSourceStatus } from './push-source.js';

export interface MqttSubscriptionOptions {
  /** The source's link name: in every log line. */
  readonly name: string;
  readonly broker: ResolvedMqttBroker;
  readonly filters: ReadonlyArray<{ readonly filter: string; readonly qos: 0 | 1 }>;
  readonly routes: TopicRoutes;
  /** The gate every push source shares (push-gate.ts): tokens, refusals counted and logged, the commit to the ring. */
  readonly gate: PushGate;
  readonly log: LevelLog;
}

const LEVEL = { info: 30, warn: 40 } as const;
/** Messages handled back to back before the listener lets timers and I/O run (pollers of other sources share the thread). */
const YIELD_EVERY = 16;
/** While over the rate: the pause after every YIELD_EVERY messages, so at most 8 000 messages a second are read. */
const OVER_RATE_PAUSE_MS = 2;
/** A topic in an error is cut here: a hostile client may publish 64 KiB topics. */
const SHOWN_TOPIC_CHARS = 200;

export class MqttSubscription implements PushListener {
  readonly #o: MqttSubscriptionOptions;
  readonly #gate: PushGate;
  #options: ResolvedMqttSinkOptions | undefined;
  #client: MqttClient | undefined;
  #connected = false;
  #version: MqttVersion = 5;
  #reconnectDelayMs = 0;
  #lastError: string | undefined;
  #stopping = false;
  #flushTimer: NodeJS.Timeout | undefined;
  /** The message in hand (waiting for its token or for the ring), settled before a stop closes the connection. */
  #inHand: Promise<void> = Promise.resolve();
  readonly #own = { received: 0, held_back: 0, reconnects: 0, connected: 0, overlap_copies: 0 };
  /** Messages handled since the listener last let the event loop run (see YIELD_EVERY). */
  #sinceYield = 0;
  /** The last message was refused for the rate: the next pause is a timer's (OVER_RATE_PAUSE_MS). */
  #overRate = false;
  /** A message was in hand at some time since the last keep-alive tick (see #keepAlive). */
  #busySinceTick = false;
  #inHandNow = false;
  #keepAliveTimer: NodeJS.Timeout | undefined;

  /** The broker's URL without credentials: what logs and records show. */
  readonly #shown: string;

  constructor(options: MqttSubscriptionOptions) {
    this.#o = options;
    this.#gate = options.gate;
    this.#shown = shownBrokerUrl(options.broker.url);
  }

  /** Connects in the background: a broker that is down at start is retried with back-off, not a failed start. */
  async start(): Promise<void> {
    if (this.#client || this.#stopping) return;
    const b = this.#o.broker;
    const tls: MqttTlsOptions | undefined = b.tls
      ? {
          ...(b.tls.ca ? { ca: await readFile(b.tls.ca) } : {}),
          ...(b.tls.cert ? { cert: await readFile(b.tls.cert) } : {}),
          ...(b.tls.key ? { key: await readFile(b.tls.key) } : {}),
          rejectUnauthorized: b.tls.rejectUnauthorized,
        }
      : undefined;
    // The uplink's own resolution of a broker connection (URL, TLS pair, password without user, back-off).
    this.#options = resolveMqttSinkOptions({
      name: this.#o.name, url: b.url, clientId: b.clientId, qos: 1, keepaliveMs: b.keepaliveMs, reconnect: b.reconnect,
      ...(b.username !== null ? { username: b.username } : {}), ...(b.password !== null ? { password: b.password } : {}),
      ...(tls ? { tls } : {}), protocol: b.protocol, cleanSession: b.cleanSession,
      ...(b.sessionExpiryMs !== null ? { sessionExpiryMs: b.sessionExpiryMs } : {}),
    });
    this.#version = firstVersion(this.#options);
    this.#reconnectDelayMs = this.#options.reconnect.minMs;
    const client = connect(this.#options.url, this.#clientOptions());
    this.#client = client;
    client.handleMessage = (packet, done) => {
      this.#inHandNow = true;
      this.#busySinceTick = true;
      const taking = this.#take(packet);
      void taking.finally(() => (this.#inHandNow = false)).catch(() => undefined);
      this.#inHand = taking.catch(() => undefined);
      // MQTT.js takes the next packet of a read in a process.nextTick, which runs before any timer or
      // I/O: a flood parsed from one read would hold the main thread, and every poller on it, until the
      // whole read is handled. Every YIELD_EVERY messages the next one waits for the event loop's turn.
      // While messages come faster than the rate, the pause is a timer's: the source then reads at most
      // YIELD_EVERY per OVER_RATE_PAUSE_MS, dropping and counting what is over the rate, and the rest
      // waits in the socket and at the broker instead of taking the thread's CPU from the other sources.
      const yieldFirst = ++this.#sinceYield >= YIELD_EVERY;
      if (yieldFirst) this.#sinceYield = 0;
      const next = (then: () => void) => (!yieldFirst ? then() : this.#overRate ? void setTimeout(then, OVER_RATE_PAUSE_MS) : void setImmediate(then));
      taking.then(() => next(() => done()), (error: Error) => next(() => done(error)));
    };
    client.on('connect', (connack) => this.#onConnect(client, connack.sessionPresent));
    client.on('reconnect', () => this.#onReconnect(client));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onError(client, error as Error & { code?: unknown }));
    this.#flushTimer = setInterval(() => this.#gate.flush(), 1_000);
    this.#flushTimer.unref();
    if (this.#options.keepaliveMs > 0) {
      this.#keepAliveTimer = setInterval(() => this.#keepAlive(client), Math.max(250, this.#options.keepaliveMs / 2));
      this.#keepAliveTimer.unref();
    }
  }

  /**
   * MQTT.js reads no packet while a message is in hand (that is how the broker is held back), so a
   * PINGRESP waits behind the messages before it, and MQTT.js counts only a PINGRESP (or an ack of
   * its own publishes, which a subscriber has none of) as the connection alive: a backlog taken
   * slower than the keep-alive (rate 1/s with 20 messages in flight, a full ring) closed the
   * connection with "Keepalive timeout", and on a clean session the broker then dropped what it held.
   * While messages are being taken the connection is alive (they are read from it): each half
   * keep-alive the listener sends the PINGREQ the broker wants from it and tells MQTT.js not to wait
   * for its answer. A connection with no message in hand is watched by MQTT.js as before.
   */
  #keepAlive(client: MqttClient): void {
    const busy = this.#busySinceTick || this.#inHandNow;
    this.#busySinceTick = false;
    if (!busy || !this.#connected || this.#stopping) return;
    client.sendPing();
    client.reschedulePing(true);
  }

  #clientOptions(): IClientOptions {
    const options = clientOptions(this.#options!, this.#version, this.#reconnectDelayMs);
    if (this.#version === 5) {
      // The broker is told the largest packet taken and drops larger ones itself instead of sending them.
      options.properties = { ...options.properties, maximumPacketSize: this.#maxPacketBytes() };
    }
    return options;
  }

  /** A PUBLISH of the largest body with a 64 KiB topic, its properties and header: the largest packet worth reading. */
  #maxPacketBytes(): number {
    return this.#gate.maxBodyBytes + 65_535 + 2 + 2 + 5 + 1024;
  }

  get #sender(): string {
    return this.#shown;
  }

  async #take(packet: IPublishPacket): Promise<void> {
    const ts = Date.now();
    this.#own.received++;
    const topic = packet.topic;
    const body = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const gate = this.#gate;
    const routed = this.#o.routes.route(topic);
    if (!routed.ok) return gate.refuse('unknown_resource', this.#sender, topic, routed.detail);
    // A copy for a later pattern the topic also fits: its twin, for the deciding pattern, is taken. A
    // copy whose identifier names no pattern the topic fits (kept in a persistent session from an
    // earlier configuration, numbered otherwise) is no twin, and is taken.
    const ids = packet.properties?.subscriptionIdentifier;
    const named = ids === undefined ? [] : Array.isArray(ids) ? ids : [ids];
    if (named.length > 0 && !named.includes(routed.pattern + 1) && named.every((id) => this.#o.routes.fits(id - 1, topic))) {
      this.#own.overlap_copies++;
      return;
    }
    if (body.byteLength > gate.maxBodyBytes) return gate.refuse('too_large', this.#sender, topic, `${body.byteLength} bytes, at most ${gate.maxBodyBytes}`);
    if (packet.qos > 0 && gate.msUntilToken() > 0) {
      // Unacknowledged, the broker keeps it and what comes behind it; no read of the socket meanwhile.
      this.#own.held_back++;
      for (let wait = gate.msUntilToken(); wait > 0 && !this.#stopping; wait = gate.msUntilToken()) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(wait))));
      }
    }
    const refused = gate.admit(this.#sender, topic);
    this.#overRate = refused === 'rate';
    // A QoS 0 message over the rate is gone (counted by the gate); a QoS 1 one refused (stopping) is not acknowledged.
    if (refused !== undefined && packet.qos === 0) return;
    if (refused !== undefined) throw this.#notTaken(topic, `refused (${refused}) before it reached the ingress ring`);
    const contentType = packet.properties?.contentType;
    const frame: PushedFrame = { device: routed.route.device, ...(routed.route.point !== undefined ? { point: routed.route.point } : {}), sender: this.#sender, resource: topic, mediaType: contentType ?? '', body, ts };
    if (!(await gate.commit(frame))) throw this.#notTaken(topic, 'the pipeline stopped before the message reached its ingress ring');
  }

  /** Withholds the PUBACK (MQTT.js sends none when the hook's callback gets an error): the broker sends it again. */
  #notTaken(topic: string, detail: string): WgError {
    return new WgError('WG_ERR_SOURCE_NOT_TAKEN', { source: this.#o.name, topic: topic.slice(0, SHOWN_TOPIC_CHARS), detail });
  }

  #onConnect(client: MqttClient, sessionPresent: boolean): void {
    if (this.#stopping) return;
    this.#connected = true;
    this.#own.connected++;
    this.#lastError = undefined;
    this.#reconnectDelayMs = this.#options!.reconnect.minMs;
    client.options.reconnectPeriod = this.#reconnectDelayMs;
    // MQTT 5: one SUBSCRIBE per filter, its subscription identifier the pattern's index + 1. A topic
    // two filters match (plant/+/+ and plant/boiler1/+) may come once per filter (mosquitto 2 sends
    // each its copy over MQTT 5, §3.3.4 allows it); each copy names the filter it came for, and only
    // the copy of the pattern that decides the route (the first the topic fits) is taken.
    const subscriptions = this.#version === 5
      ? this.#o.filters.map((f, i) => ({ filters: { [f.filter]: { qos: f.qos } }, properties: { subscriptionIdentifier: i + 1 } }))
      : [{ filters: Object.fromEntries(this.#o.filters.map((f) => [f.filter, { qos: f.qos }])), properties: undefined }];
    void Promise.all(subscriptions.map((s) => new Promise<{ error?: Error; granted: Array<{ topic: string; qos: number }> }>((resolve) => {
      client.subscribe(s.filters, s.properties ? { properties: s.properties } : {}, (error, granted) => resolve({ ...(error ? { error } : {}), granted: granted ?? [] }));
    }))).then((answers) => {
      const error = answers.find((a) => a.error)?.error;
      if (error) return this.#subscribeFailed(`SUBSCRIBE failed: ${error.message}`);
      // SUBACK 0x80 (3.1.1) or a reason code of 0x80 and up (5): the broker refused that filter (an ACL).
      const refused = answers.flatMap((a) => a.granted).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (refused.length > 0) this.#subscribeFailed(`the broker refused the subscription to ${refused.join(', ')} (SUBACK failure: an ACL that does not allow it?)`);
      // Listening: connected, and the broker acknowledged the subscriptions (status, and tests, wait for it).
      else if (this.#connected) this.#gate.listening = true;
    });
    this.#o.log(LEVEL.info, `${this.#o.name}: connected to ${this.#shown} as ${this.#o.broker.clientId}, subscribing ${this.#o.filters.map((f) => f.filter).join(', ')}`, {
      event: 'subscription.connected', link: this.#o.name, broker: this.#shown, clientId: this.#o.broker.clientId, protocol: versionName(this.#version), sessionPresent, filters: this.#o.filters.map((f) => f.filter),
    });
  }

  #subscribeFailed(detail: string): void {
    this.#lastError = detail;
    this.#o.log(LEVEL.warn, `${this.#o.name}: ${detail}`, { event: 'subscription.subscribe_failed', link: this.#o.name, broker: this.#shown, detail });
  }

  #onReconnect(client: MqttClient): void {
    if (this.#stopping) return;
    this.#own.reconnects++;
    // MQTT.js arms its next retry from this option if this attempt fails.
    this.#reconnectDelayMs = Math.min(this.#options!.reconnect.maxMs, this.#reconnectDelayMs * 2);
    client.options.reconnectPeriod = this.#reconnectDelayMs;
  }

  #onClose(): void {
    const was = this.#connected;
    this.#connected = false;
    this.#gate.listening = false;
    if (this.#stopping || !was) return;
    this.#o.log(LEVEL.warn, `${this.#o.name}: lost the connection to ${this.#shown}; reconnecting with back-off`, { event: 'subscription.lost', link: this.#o.name, broker: this.#shown });
  }

  #onError(client: MqttClient, error: Error & { code?: unknown }): void {
    if (this.#options!.protocol === 'auto' && this.#version === 5 && !this.#connected && refusesProtocolVersion(error)) {
      this.#version = 4;
      fallBackTo311(client.options);
      client.options.reconnectPeriod = 1;
      return;
    }
    const detail = describeConnectError(error);
    if (detail === this.#lastError) return;
    this.#lastError = detail;
    this.#o.log(LEVEL.warn, `${this.#o.name}: cannot reach ${this.#shown}: ${detail}`, { event: 'subscription.connect_failed', link: this.#o.name, broker: this.#shown, detail });
  }

  /**
   * Refuses from now on, lets the message in hand reach the ring or give up (the ingress closes at a
   * stop), then disconnects. A message not committed is not acknowledged.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#gate.stop();
    clearInterval(this.#flushTimer);
    clearInterval(this.#keepAliveTimer);
    this.#gate.flush();
    const client = this.#client;
    if (!client) return;
    // Its PUBACK goes out once it is committed; a clean DISCONNECT after that keeps the session's state right.
    await Promise.race([this.#inHand, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    await new Promise<void>((resolve) => client.end(false, () => resolve()));
    this.#gate.listening = false;
  }

  status(): PushSourceStatus {
    return this.#gate.status({ ...this.#own });
  }

  /** The last connection problem, for status; undefined while connected and subscribed. */
  get lastError(): string | undefined {
    return this.#lastError;
  }
}
