/**
 * The MQTT uplink (MQTT.js, protocol 3.1.1), implementing the Sink contract in sink.ts.
 *
 * Two things MQTT.js does not do the way a gateway needs, and how this file covers them:
 * - Order across QoS levels while offline. MQTT.js parks offline QoS 1 in its outgoing store and QoS 0
 *   in a separate queue, and replays the store first. So the sink keeps its own offline queue and
 *   hands messages to MQTT.js only once connected; MQTT.js still owns QoS 1 messages in flight when
 *   a connection drops and resends them first on reconnect, which keeps publish order.
 * - Back-off. MQTT.js retries at a fixed `reconnectPeriod`; it re-reads that option each time it arms
 *   its retry timer, so the sink doubles it on every attempt and resets it on connect.
 * - Session takeover. Two gateways sharing a client id knock each other off the broker; MQTT.js only
 *   sees closes. session-takeover.ts tells the pattern; the sink then says so once per episode and
 *   keeps backing off across connections (no reset on connect) until one stays up.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { WgError } from '../errors.js';
import { withBindings, type Logger } from '../logger.js';
import { formatDuration } from '../../hal/duration.js';
import { SessionTakeoverWatch } from './session-takeover.js';
import { resolveMqttSinkOptions, type MqttSinkOptions, type ResolvedMqttSinkOptions } from './mqtt-options.js';
import type { MessageStamp, Sink, SinkCounters, SinkPublishOptions, SinkQos, SinkState, SinkStateListener } from './sink.js';
import { SinkStateListeners } from './state-listeners.js';
import { isReplay, markFields } from './message-mark.js';

export type { MqttSinkOptions, MqttTlsOptions } from './mqtt-options.js';

interface Message {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: SinkQos;
  readonly retain: boolean;
  readonly stamp: MessageStamp | undefined;
  resolve(): void;
  reject(error: WgError): void;
}

interface Waiter {
  resolve(): void;
  reject(error: WgError): void;
  timer: NodeJS.Timeout;
}

type Link = 'offline' | 'connecting' | 'connected';

const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export class MqttSink implements Sink {
  readonly name: string;
  readonly #options: ResolvedMqttSinkOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  #link: Link = 'offline';
  #closing: Promise<void> | undefined;
  #lastError: WgError | undefined;
  #reconnectDelayMs: number;
  /** Waiting for a connection, in publish order. */
  #queue: Message[] = [];
  /** Handed to MQTT.js, not yet settled. */
  readonly #inFlight = new Set<Message>();
  /** Producers waiting for the backlog to fall below their limit. */
  #roomWaiters: Array<{ limit: number; resolve: () => void }> = [];
  readonly #waiters = new Set<Waiter>();
  readonly #counts = { published: 0, acked: 0, failed: 0, reconnects: 0, unmarked: 0, replayed: 0 };
  /** Set while close() waits for acknowledgements; called when an in-flight message settles or the link drops. */
  #wake: (() => void) | undefined;
  readonly #takeover = new SessionTakeoverWatch();
  /** Armed on connect: a connection that lives this long is nobody's takeover. */
  #stableTimer: NodeJS.Timeout | undefined;
  #connectedSinceMs: number | undefined;
  readonly #stateListeners = new SinkStateListeners();

  /** Throws `WG_ERR_CONFIG_INVALID` / `WG_ERR_CONFIG_CONFLICT` for options that cannot work. */
  constructor(options: MqttSinkOptions, logger: Logger) {
    this.#options = resolveMqttSinkOptions(options);
    this.name = options.name;
    this.#log = withBindings(logger, { uplink: options.name });
    this.#reconnectDelayMs = this.#options.reconnect.minMs;
  }

  get state(): SinkState {
    return this.#closing ? 'closed' : this.#link;
  }

  get lastError(): WgError | undefined {
    return this.#lastError;
  }

  get connectedSinceMs(): number | undefined {
    return this.state === 'connected' ? this.#connectedSinceMs : undefined;
  }

  onStateChange(listener: SinkStateListener): () => void {
    return this.#stateListeners.add(listener);
  }

  #setLink(link: Link): void {
    this.#link = link;
    if (link === 'connected') this.#connectedSinceMs = Date.now();
    this.#stateListeners.changed(this.state);
  }

  /**
   * Delay before the next reconnection attempt if the current one fails, in milliseconds: `reconnect.minMs`
   * after a successful connection, doubled at each attempt, never above `reconnect.maxMs`. While the
   * broker keeps closing connections right after accepting them (a session takeover), a connection
   * resets it only once it has stayed up for 2 x `reconnect.maxMs`.
   */
  get reconnectDelayMs(): number {
    return this.#reconnectDelayMs;
  }

  counters(): SinkCounters {
    return { ...this.#counts, queued: this.#queue.length };
  }

  start(): void {
    if (this.#client || this.#closing) return;
    const o = this.#options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      keepalive: o.keepaliveSeconds,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: this.#reconnectDelayMs,
      // A refused CONNACK (bad credentials, broker not ready) can be fixed on the broker side without
      // touching the gateway; an unattended box must keep trying, with the same back-off.
      reconnectOnConnackError: true,
      protocolVersion: 4,
      clean: true,
      resubscribe: false,
      queueQoSZero: true,
      ...(o.tls && { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, rejectUnauthorized: o.tls.rejectUnauthorized }),
    };
    this.#setLink('connecting');
    const client = connect(o.url, clientOptions);
    this.#client = client;
    client.on('connect', () => this.#onConnect());
    client.on('reconnect', () => this.#onReconnect(client));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onError(error));
  }

  /**
   * A connection up for twice the longest back-off outlived any other client with our id that keeps
   * reconnecting: the streak is over, and the back-off starts from `reconnect.minMs` again.
   */
  get #stableAfterMs(): number {
    return 2 * this.#options.reconnect.maxMs;
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.#closing) return Promise.reject(this.#connectError('the sink is closed'));
    if (this.#link === 'connected') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          const why = this.#lastError ? `: ${String(this.#lastError.context.detail)}` : '';
          reject(this.#connectError(`not connected within ${timeoutMs} ms${why}`, this.#lastError));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  publish(topic: string, payload: Uint8Array | string, options: SinkPublishOptions = {}): Promise<void> {
    this.#counts.published++;
    if (this.#closing) return Promise.reject(this.#failed(topic, 'the sink is closed'));
    return new Promise<void>((resolve, reject) => {
      const message: Message = {
        topic,
        payload: typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        qos: options.qos ?? this.#options.qos,
        retain: options.retain ?? false,
        stamp: options.stamp,
        resolve,
        reject,
      };
      if (this.#link === 'connected' && this.#queue.length === 0) {
        this.#send(message);
      } else if (this.#queue.length >= this.#options.offlineQueueLimit) {
        reject(this.#failed(topic, `offline queue full (${this.#options.offlineQueueLimit} messages)`));
      } else {
        this.#queue.push(message);
      }
    });
  }

  backlog(): number {
    return this.#queue.length + this.#inFlight.size;
  }

  whenBacklogBelow(limit: number): Promise<void> {
    if (this.backlog() < limit || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push({ limit, resolve }));
  }

  #checkRoom(): void {
    if (this.#roomWaiters.length === 0) return;
    const backlog = this.backlog();
    this.#roomWaiters = this.#roomWaiters.filter((w) => {
      if (backlog >= w.limit && !this.#closing) return true;
      w.resolve();
      return false;
    });
  }

  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    if (!this.#closing) {
      this.#closing = this.#shutdown(timeoutMs);
      this.#stateListeners.changed('closed');
    }
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    clearTimeout(this.#stableTimer);
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.#connectError('the sink is closed'));
    }
    this.#waiters.clear();
    for (const message of this.#queue.splice(0)) message.reject(this.#failed(message.topic, 'the sink closed before the message was sent'));
    const client = this.#client;
    if (client) {
      // Acknowledgements can only come over a live connection: wait for them only while there is one.
      while (this.#inFlight.size > 0 && this.#link === 'connected' && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
      const force = this.#inFlight.size > 0 || this.#link !== 'connected';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          client.stream?.destroy(); // a broker that never closes its side must not hold up shutdown
          resolve();
        }, Math.max(0, deadline - Date.now()));
        client.end(force, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const message of this.#inFlight) message.reject(this.#failed(message.topic, 'the sink closed before the broker acknowledged the message'));
    this.#inFlight.clear();
    this.#setLink('offline');
    this.#checkRoom();
    this.#log.info(this.counters(), 'mqtt uplink closed');
  }

  #send(message: Message): void {
    const client = this.#client as MqttClient;
    this.#inFlight.add(message);
    client.publish(message.topic, this.#marked(message), { qos: message.qos, retain: message.retain }, (error) => {
      if (!this.#inFlight.delete(message)) return; // already settled by close() or a lost connection
      this.#wake?.();
      this.#checkRoom();
      if (error) message.reject(this.#failed(message.topic, error.message, error));
      else {
        this.#counts.acked++;
        message.resolve();
      }
    });
  }

  /** The payload as it goes on the wire: with the stamp's seq and replay flag where `mark` says (message-mark.ts). */
  #marked(message: Message): Buffer | string {
    const { stamp, payload } = message;
    if (stamp === undefined) return payload;
    const replay = isReplay(stamp, this.connectedSinceMs);
    if (replay) this.#counts.replayed++;
    if (this.#options.mark === 'none' || this.#options.mark === 'properties') return payload;
    const marked = markFields(typeof payload === 'string' ? Buffer.from(payload) : payload, stamp, replay);
    if (marked) return marked;
    this.#counts.unmarked++;
    return payload;
  }

  #onConnect(): void {
    if (this.#closing) return;
    this.#setLink('connected');
    const takeover = this.#takeover.connected();
    if (takeover === 'detected') this.#reportTakeover();
    if (!this.#takeover.inEpisode) this.#lastError = undefined;
    // While the broker keeps closing us right after accepting, the back-off keeps growing.
    if (this.#takeover.streak === 0) this.#resetBackoff();
    this.#armStableTimer();
    this.#log.info({ queued: this.#queue.length }, 'mqtt uplink connected');
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.#waiters.clear();
    // Synchronous on purpose: no 'close' can interleave, so the backlog goes out whole and in order.
    for (const message of this.#queue.splice(0)) this.#send(message);
  }

  #onReconnect(client: MqttClient): void {
    if (this.#closing) return;
    this.#counts.reconnects++;
    this.#setLink('connecting');
    // MQTT.js arms its next retry from this option if this attempt fails.
    this.#reconnectDelayMs = Math.min(this.#options.reconnect.maxMs, this.#reconnectDelayMs * 2);
    client.options.reconnectPeriod = this.#reconnectDelayMs;
  }

  #onClose(): void {
    const wasConnected = this.#link === 'connected';
    this.#setLink('offline');
    this.#wake?.();
    clearTimeout(this.#stableTimer);
    if (this.#closing) return;
    if (wasConnected) this.#takeover.closed();
    // In a takeover episode the one error line says it all; a warning per knock-off would bury it.
    if (wasConnected && !this.#takeover.inEpisode) this.#log.warn('mqtt uplink connection lost');
    // A QoS 0 message still in flight here waits for a 'drain' the dead socket will never emit; QoS 1
    // messages stay with MQTT.js, which resends them on reconnect.
    for (const message of this.#inFlight) {
      if (message.qos !== 0) continue;
      this.#inFlight.delete(message);
      message.reject(this.#failed(message.topic, 'the connection dropped before the message was written'));
    }
    this.#checkRoom();
  }

  #onError(error: Error & { code?: unknown }): void {
    this.#takeover.error(this.#link === 'connected');
    const repeated = this.#lastError?.context.detail === error.message;
    this.#lastError = this.#connectError(error.message, error);
    if (!repeated) this.#log.warn({ err: error }, 'mqtt uplink connection problem');
    // A numeric code is the broker's CONNACK refusal: tell waiters now rather than at their timeout.
    if (typeof error.code === 'number' && this.#link !== 'connected') {
      for (const waiter of this.#waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(this.#lastError);
      }
      this.#waiters.clear();
    }
  }

  #resetBackoff(): void {
    this.#reconnectDelayMs = this.#options.reconnect.minMs;
    if (this.#client) this.#client.options.reconnectPeriod = this.#reconnectDelayMs;
  }

  #armStableTimer(): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => {
      const wasFlapping = this.#takeover.streak > 0;
      if (this.#takeover.stable() === 'over') {
        this.#lastError = undefined;
        this.#log.info({ clientId: this.#options.clientId }, `mqtt uplink connection stable again: client id "${this.#options.clientId}" is no longer taken over`);
      }
      if (wasFlapping) this.#resetBackoff();
    }, this.#stableAfterMs);
    this.#stableTimer.unref();
  }

  #reportTakeover(): void {
    const error = new WgError('WG_ERR_UPLINK_TAKEOVER', {
      uplink: this.name,
      clientId: this.#options.clientId,
      detail: `the broker closed ${this.#takeover.streak} connections in a row, each right after accepting it, and accepted every reconnection at once; `
        + `give every gateway its own client_id; until then this uplink reconnects with back-off up to ${formatDuration(this.#options.reconnect.maxMs)}`,
    });
    this.#lastError = error;
    this.#log.error({ code: error.code, clientId: this.#options.clientId }, error.message);
  }

  #connectError(detail: string, cause?: unknown): WgError {
    return new WgError('WG_ERR_UPLINK_CONNECT', { uplink: this.name, detail }, { cause });
  }

  #failed(topic: string, detail: string, cause?: unknown): WgError {
    this.#counts.failed++;
    return new WgError('WG_ERR_UPLINK_PUBLISH', { uplink: this.name, topic, detail }, { cause });
  }
}
