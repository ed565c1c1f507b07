/**
 * The client of an `mqtt_subscribe` source (MQTT.js): a broker connection of its own (not the
 * uplink's: another broker, often the local one, other credentials, and a flood of device messages
 * must not hold up the uplink's PUBACKs), its topic filters subscribed on every connection, reconnect
 * with back-off as the uplink does (mqtt.ts), and every message handed to the gateway through
 * MQTT.js's `handleMessage` hook.
 *
 * Why the hook: MQTT.js calls it for each incoming PUBLISH and sends a QoS 1 message's PUBACK only
 * once its callback is called, and it reads no further packet from the connection until then. So the
 * PUBACK goes out after `deliver` resolved, which is when the reading is committed to the pipeline's
 * ingress ring: a gateway that dies before that never acknowledged the message, and the broker hands
 * it out again (to the same client id, on a persistent session). And a source the pipeline cannot keep
 * up with stops reading its socket: TCP flow control holds the rest at the broker.
 *
 * Over the rate (a token bucket, `rate` messages/s, `burst` saved up): a QoS 0 message is dropped and
 * counted, since a broker never sends one again; a QoS 1 message waits for its token unacknowledged,
 * and the broker holds the ones behind it (mosquitto up to its max_queued_messages, 1000 by default,
 * then it drops them itself, counted in its own $SYS topics). Memory here stays one message in hand
 * plus what MQTT.js parsed from one read of the socket.
 *
 * MQTT does not tell a subscriber who published a message: the topic is what names its sender, and a
 * refusal is logged with the topic, and with this source's broker and client id.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { WgError } from '../errors.js';
import type { LevelLog } from '../log-events.js';
import { RepeatLog } from '../pipeline/repeat-log.js';
import { TokenBucket } from '../outbox/token-bucket.js';
import { clientOptions, fallBackTo311, firstVersion, versionName, type MqttVersion } from '../sinks/mqtt-protocol.js';
import { describeConnectError, refusesProtocolVersion } from '../sinks/mqtt-reasons.js';
import { resolveMqttSinkOptions, type MqttSinkOptions, type ResolvedMqttSinkOptions } from '../sinks/mqtt-options.js';

/** Why a message was not taken. */
export type Refusal = 'topic' | 'payload' | 'rate';

/** What a topic names, or why it names nothing the source serves. */
export type Routed<R> = { ok: true; route: R } | { ok: false; detail: string };

export interface MqttSubscriptionOptions<R> {
  /** The source's name (its pipeline and `mqtt_subscribe`): in every log line and error. */
  readonly name: string;
  /** The broker connection, as the uplink's sink takes it (its status and outbox settings unused). */
  readonly broker: Omit<MqttSinkOptions, 'name' | 'qos' | 'status' | 'mark' | 'messageExpiryMs' | 'offlineQueueLimit'>;
  /** Topic filters and the QoS each is subscribed with. */
  readonly filters: ReadonlyArray<{ readonly filter: string; readonly qos: 0 | 1 }>;
  /** Messages per second taken into the pipeline, and how many may come at once above it. */
  readonly ratePerS: number;
  readonly burst: number;
  /** Largest payload taken, bytes; larger ones are refused (`payload`). */
  readonly maxPayloadBytes: number;
  /** Which device and point a topic names. */
  route(topic: string): Routed<R>;
  /**
   * Hands one reading to the pipeline; resolves true once it is committed to the ingress ring, false
   * when it was not (the pipeline stopped while it waited for room).
   */
  deliver(route: R, topic: string, payload: Uint8Array, receivedAtMs: number): Promise<boolean>;
  readonly log: LevelLog;
  /** Milliseconds, monotonic. */
  readonly monotonicMs?: () => number;
}

export interface MqttSubscriptionStatus {
  readonly state: 'connecting' | 'connected' | 'offline' | 'closed';
  readonly broker: string;
  readonly clientId: string;
  /** PUBLISH packets that arrived. */
  readonly received: number;
  /** Readings committed to the ingress ring. */
  readonly accepted: number;
  /** Refused here, by reason (the decoder's own refusals are its step's stats). */
  readonly refused: Readonly<Record<Refusal, number>>;
  /** QoS 1 messages that waited, unacknowledged, for their token (the broker held the ones behind them). */
  readonly heldBack: number;
  readonly reconnects: number;
  readonly lastError?: string;
}

const LEVEL = { info: 30, warn: 40 } as const;
/** A topic in a log line is cut here: a hostile client may publish 64 KiB topics. */
const LOGGED_TOPIC_CHARS = 200;

export class MqttSubscription<R> {
  readonly #o: MqttSubscriptionOptions<R>;
  readonly #broker: ResolvedMqttSinkOptions;
  readonly #bucket: TokenBucket;
  readonly #repeat: RepeatLog;
  readonly #now: () => number;
  #client: MqttClient | undefined;
  #state: MqttSubscriptionStatus['state'] = 'offline';
  #version: MqttVersion;
  #reconnectDelayMs: number;
  #lastError: string | undefined;
  #closed = false;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #counts = { received: 0, accepted: 0, heldBack: 0, reconnects: 0 };
  readonly #refused: Record<Refusal, number> = { topic: 0, payload: 0, rate: 0 };

  constructor(options: MqttSubscriptionOptions<R>) {
    this.#o = options;
    // The uplink's own checks of a broker connection (URL, TLS pair, password without user, back-off).
    this.#broker = resolveMqttSinkOptions({ ...options.broker, name: options.name, qos: 1 });
    this.#now = options.monotonicMs ?? (() => performance.now());
    this.#bucket = new TokenBucket(options.ratePerS, options.burst, this.#now());
    this.#repeat = new RepeatLog(options.log, 10_000, this.#now);
    this.#version = firstVersion(this.#broker);
    this.#reconnectDelayMs = this.#broker.reconnect.minMs;
  }

  start(): void {
    if (this.#client || this.#closed) return;
    this.#state = 'connecting';
    const client = connect(this.#broker.url, this.#clientOptions());
    this.#client = client;
    client.handleMessage = (packet, done) => {
      this.#take(packet).then(() => done(), (error: Error) => done(error));
    };
    client.on('connect', (connack) => this.#onConnect(client, connack.sessionPresent));
    client.on('reconnect', () => this.#onReconnect(client));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onError(client, error as Error & { code?: unknown }));
    this.#flushTimer = setInterval(() => this.#repeat.flush(), 1_000);
    this.#flushTimer.unref();
  }

  #clientOptions(): IClientOptions {
    const options = clientOptions(this.#broker, this.#version, this.#reconnectDelayMs);
    // The filters are subscribed again on every connection (#onConnect), with a session kept or not.
    options.resubscribe = false;
    if (this.#version === 5) {
      // The broker is told the largest packet taken, and drops larger ones itself instead of sending them.
      options.properties = { ...options.properties, maximumPacketSize: this.#maxPacketBytes() };
    }
    return options;
  }

  /** A PUBLISH of `maxPayloadBytes` with a 64 KiB topic and its header: the largest packet worth reading. */
  #maxPacketBytes(): number {
    return this.#o.maxPayloadBytes + 65_535 + 2 + 2 + 5 + 64;
  }

  async #take(packet: IPublishPacket): Promise<void> {
    const receivedAtMs = Date.now();
    this.#counts.received++;
    const topic = packet.topic;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    // Refused messages are acknowledged: sent again, they would be refused again, for ever.
    const routed = this.#o.route(topic);
    if (!routed.ok) return this.#refuse('topic', topic, routed.detail);
    if (payload.byteLength > this.#o.maxPayloadBytes) {
      return this.#refuse('payload', topic, `a payload of ${payload.byteLength} bytes, over max_payload (${this.#o.maxPayloadBytes} bytes)`);
    }
    if (this.#bucket.take(1, this.#now()) === 0) {
      if (packet.qos === 0) return this.#refuse('rate', topic, `over the rate of ${this.#o.ratePerS} messages/s (QoS 0: dropped, a broker never sends it again)`);
      this.#counts.heldBack++;
      while (this.#bucket.take(1, this.#now()) === 0) {
        if (this.#closed) throw this.#notTaken(topic, 'the source closed while the message waited for its turn under the rate');
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(this.#bucket.msUntilToken(this.#now())))));
      }
    }
    // An error here withholds the PUBACK: the broker sends the message again.
    if (!(await this.#o.deliver(routed.route, topic, payload, receivedAtMs))) throw this.#notTaken(topic, 'the pipeline stopped before the message reached its ingress ring');
    this.#counts.accepted++;
  }

  #notTaken(topic: string, detail: string): WgError {
    return new WgError('WG_ERR_SOURCE_NOT_TAKEN', { source: this.#o.name, topic: topic.slice(0, LOGGED_TOPIC_CHARS), detail });
  }

  #refuse(reason: Refusal, topic: string, detail: string): void {
    this.#refused[reason]++;
    const shown = topic.length > LOGGED_TOPIC_CHARS ? `${topic.slice(0, LOGGED_TOPIC_CHARS)}… (${topic.length} characters)` : topic;
    this.#repeat.report(`refused/${reason}`, LEVEL.warn, `${this.#o.name}: refused a message on ${JSON.stringify(shown)}: ${detail}`, {
      event: 'subscription.refused', link: this.#o.name, reason, topic: shown, broker: this.#broker.url, clientId: this.#broker.clientId,
    });
  }

  #onConnect(client: MqttClient, sessionPresent: boolean): void {
    if (this.#closed) return;
    this.#state = 'connected';
    this.#lastError = undefined;
    this.#reconnectDelayMs = this.#broker.reconnect.minMs;
    client.options.reconnectPeriod = this.#reconnectDelayMs;
    const filters = Object.fromEntries(this.#o.filters.map((f) => [f.filter, { qos: f.qos }]));
    client.subscribe(filters, (error, granted) => {
      if (error) {
        this.#lastError = `SUBSCRIBE failed: ${error.message}`;
        this.#o.log(LEVEL.warn, `${this.#o.name}: ${this.#lastError}`, { event: 'subscription.subscribe_failed', link: this.#o.name, detail: error.message });
        return;
      }
      // SUBACK 0x80 (3.1.1) or a reason code of 0x80 and up (5): the broker refused that filter (ACL).
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (refused.length > 0) {
        this.#lastError = `the broker refused the subscription to ${refused.join(', ')}`;
        this.#o.log(LEVEL.warn, `${this.#o.name}: ${this.#lastError} (SUBACK failure; an ACL that does not allow it?)`, { event: 'subscription.subscribe_failed', link: this.#o.name, detail: this.#lastError });
      }
    });
    this.#o.log(LEVEL.info, `${this.#o.name}: connected to ${this.#broker.url}`, {
      event: 'subscription.connected', link: this.#o.name, broker: this.#broker.url, protocol: versionName(this.#version), sessionPresent, filters: this.#o.filters.map((f) => f.filter),
    });
  }

  #onReconnect(client: MqttClient): void {
    if (this.#closed) return;
    this.#counts.reconnects++;
    this.#state = 'connecting';
    // MQTT.js arms its next retry from this option if this attempt fails.
    this.#reconnectDelayMs = Math.min(this.#broker.reconnect.maxMs, this.#reconnectDelayMs * 2);
    client.options.reconnectPeriod = this.#reconnectDelayMs;
  }

  #onClose(): void {
    const was = this.#state;
    if (this.#closed) return;
    this.#state = 'offline';
    if (was === 'connected') this.#o.log(LEVEL.warn, `${this.#o.name}: lost the connection to ${this.#broker.url}`, { event: 'subscription.lost', link: this.#o.name, broker: this.#broker.url });
  }

  #onError(client: MqttClient, error: Error & { code?: unknown }): void {
    if (this.#broker.protocol === 'auto' && this.#version === 5 && this.#state !== 'connected' && refusesProtocolVersion(error)) {
      this.#version = 4;
      fallBackTo311(client.options);
      client.options.reconnectPeriod = 1;
      return;
    }
    const detail = describeConnectError(error);
    if (detail === this.#lastError) return;
    this.#lastError = detail;
    this.#o.log(LEVEL.warn, `${this.#o.name}: cannot reach ${this.#broker.url}: ${detail}`, { event: 'subscription.connect_failed', link: this.#o.name, broker: this.#broker.url, detail });
  }

  /** Ends the connection; a message waiting for its turn or for the ring is not acknowledged. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#state = 'closed';
    clearInterval(this.#flushTimer);
    this.#repeat.flush();
    const client = this.#client;
    if (!client) return;
    // force: a message in hand is not acknowledged; the broker sends it again to this client id.
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
  }

  status(): MqttSubscriptionStatus {
    return {
      state: this.#state,
      broker: this.#broker.url,
      clientId: this.#broker.clientId,
      ...this.#counts,
      refused: { ...this.#refused },
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }
}
