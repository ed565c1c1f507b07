/**
 * The MQTT uplink (MQTT.js, MQTT 5 or 3.1.1, mqtt-protocol.ts), implementing the Sink contract in sink.ts.
 *
 * MQTT.js keeps the connection (CONNECT, keepalive, reconnection, the status messages) and parses what
 * the broker sends; the data messages the sink writes itself (mqtt-publish-frames.ts: a copy of each
 * message's bytes in a shared slab, one socket write per batch, where MQTT.js made about 13 KB of
 * garbage per message), with packet ids shared with MQTT.js (packet-ids.ts), and it settles them from
 * the PUBACKs MQTT.js parses. What else MQTT.js does not do the way a gateway needs:
 * - Order across QoS levels while offline. The sink keeps its own offline queue and writes messages
 *   only while connected. QoS 1 messages unacknowledged when a connection drops are written again,
 *   first and with their packet ids, once the next connection is up, which keeps publish order.
 * - Back-off. MQTT.js retries at a fixed `reconnectPeriod`; it re-reads that option each time it arms
 *   its retry timer, so the sink doubles it on every attempt and resets it on connect.
 * - Session takeover. Two gateways sharing a client id knock each other off the broker; MQTT.js only
 *   sees closes. session-takeover.ts tells the pattern; the sink then says so once per episode and
 *   keeps backing off across connections (no reset on connect) until one stays up.
 *
 * The gateway's status (`status` option): the last will says `offline` if the connection is lost, each
 * connection publishes `online` before anything else, and close() publishes `stopped` before its clean
 * DISCONNECT (which makes the broker discard the will). All three retained, QoS 1, not counted as
 * publishes.
 */
import { connect, type MqttClient } from 'mqtt';
import { WgError } from '../errors.js';
import { withBindings, type Logger } from '../logger.js';
import { formatDuration } from '../../hal/duration.js';
import { SessionTakeoverWatch } from './session-takeover.js';
import { resolveMqttSinkOptions, type MqttSinkOptions, type ResolvedMqttSinkOptions } from './mqtt-options.js';
import type { MessageStamp, Sink, SinkCounters, SinkPublishOptions, SinkQos, SinkState, SinkStateListener } from './sink.js';
import { SinkStateListeners } from './state-listeners.js';
import { PoisonWatch } from './poison-watch.js';
import { publishBytes, PublishSlab, type PublishFields } from './mqtt-publish-frames.js';
import { PacketIds } from './packet-ids.js';
import { isReplay, markFields, markProperties } from './message-mark.js';
import { clientOptions, fallBackTo311, firstVersion, versionName, type MqttVersion } from './mqtt-protocol.js';
import { describeConnectError, describeReason, isTlsRefusal, refusedForGood, refusesProtocolVersion } from './mqtt-reasons.js';

export type { MqttSinkOptions, MqttTlsOptions } from './mqtt-options.js';

interface Message {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: SinkQos;
  readonly retain: boolean;
  readonly stamp: MessageStamp | undefined;
  /** It waited in the sink's queue for a connection (message-mark.ts: a replay). */
  waited?: boolean;
  /** Its packet id while written and unacknowledged (QoS 1). */
  packetId?: number;
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
/** The largest packet MQTT can carry: a 4-byte remaining length of at most 268,435,455 (MQTT 5 §1.5.5). */
const MAX_PACKET_BYTES = 1 + 4 + 268_435_455;
const SHOWN_TOPIC_CHARS = 120;
/** A topic as an error names it: the head of one too long for MQTT, not 64 KiB in every log line. */
function topicShown(topic: string): string {
  return topic.length <= SHOWN_TOPIC_CHARS ? topic : `${topic.slice(0, SHOWN_TOPIC_CHARS)}…`;
}

/** An MQTT string (a topic) is at most 65,535 bytes of UTF-8, its length a 2-byte integer (MQTT 5 §1.5.4); the slab writer cannot write a longer one. */
const MAX_STRING_BYTES = 65_535;
/** A connection closed this soon after it came up, with nothing acknowledged, may be a refusal (poison-watch.ts). */
const POISON_SOON_MS = 5_000;
/** Closes in a row, around the same unacknowledged message, that make it one the broker refuses. */
const POISON_STREAK = 3;

export class MqttSink implements Sink {
  readonly name: string;
  readonly #options: ResolvedMqttSinkOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  #link: Link = 'offline';
  #closing: Promise<void> | undefined;
  #lastError: WgError | undefined;
  #reconnectDelayMs: number;
  /**
   * Waiting to be written, in publish order: for a connection, for a free slot of the broker's
   * Receive Maximum, or behind one that does; first in it after a lost connection, the QoS 1 ones
   * written and unacknowledged (they keep their packet ids).
   */
  #queue: Message[] = [];
  /** QoS 1 messages written on this connection and not acknowledged, the `online` status among them. */
  #unacked = 0;
  /** When a PUBACK last re-armed MQTT.js's keepalive (#heardFromBroker). */
  #keepaliveArmedAt = 0;
  /** Counts connections, so that a status PUBACK settles a slot of the connection that sent it only. */
  #connection = 0;
  /**
   * The broker's CONNACK Receive Maximum (MQTT 5 §3.2.2.3.3): how many QoS 1 messages may be
   * unacknowledged at once; 65,535 when it names none, and over 3.1.1.
   */
  #receiveMaximum = 65_535;
  /** Written (or being written), not yet settled, in publish order. */
  readonly #inFlight = new Set<Message>();
  /** The QoS 1 ones among them, by packet id. */
  readonly #byPacketId = new Map<number, Message>();
  readonly #packetIds = new PacketIds();
  readonly #slab = new PublishSlab();
  /** QoS 0 messages in the slab, settled once the socket took their bytes. */
  #slabQos0: Message[] = [];
  #flushArmed = false;
  /** Producers waiting for the backlog to fall below their limit. */
  #roomWaiters: Array<{ limit: number; resolve: () => void }> = [];
  readonly #waiters = new Set<Waiter>();
  readonly #counts = { published: 0, acked: 0, failed: 0, reconnects: 0, unmarked: 0, replayed: 0 };
  /** Set while close() waits for acknowledgements; called when an in-flight message settles or the link drops. */
  #wake: (() => void) | undefined;
  readonly #takeover = new SessionTakeoverWatch();
  readonly #poison = new PoisonWatch<Message>({ soonMs: POISON_SOON_MS, streak: POISON_STREAK });
  /** A CONNACK came on the current connection (the broker accepted it), whether or not MQTT.js said 'connect'. */
  #accepted = false;
  /** The broker's CONNACK Maximum Packet Size (MQTT 5); undefined: it named none. */
  #maxPacketBytes: number | undefined;
  /** Armed on connect: a connection that lives this long is nobody's takeover. */
  #stableTimer: NodeJS.Timeout | undefined;
  #connectedSinceMs: number | undefined;
  readonly #stateListeners = new SinkStateListeners();
  /** The version the next CONNECT asks for; with `protocol: auto` it drops to 4 once a broker refuses 5. */
  #version: MqttVersion;
  /** Set between a broker's refusal of MQTT 5 and the 3.1.1 attempt that follows it at once. */
  #fallingBack = false;

  /** Throws `WG_ERR_CONFIG_INVALID` / `WG_ERR_CONFIG_CONFLICT` for options that cannot work. */
  constructor(options: MqttSinkOptions, logger: Logger) {
    this.#options = resolveMqttSinkOptions(options);
    this.name = options.name;
    this.#log = withBindings(logger, { uplink: options.name });
    this.#reconnectDelayMs = this.#options.reconnect.minMs;
    this.#version = firstVersion(this.#options);
  }

  /** The MQTT version of the current connection; undefined while not connected. */
  get protocol(): '5' | '3.1.1' | undefined {
    return this.state === 'connected' ? versionName(this.#version) : undefined;
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
    this.#setLink('connecting');
    const client = connect(this.#options.url, { ...clientOptions(this.#options, this.#version, this.#reconnectDelayMs), messageIdProvider: this.#packetIds });
    this.#client = client;
    client.on('connect', (connack) => this.#onConnect(client, connack.sessionPresent, connack.properties?.maximumPacketSize, connack.properties?.receiveMaximum));
    // MQTT.js tells 'connect' only once it has sent its unacknowledged messages again; a broker that
    // closes the connection at one of them is seen by its CONNACK and the close (poison-watch.ts).
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback') this.#onPuback(packet.messageId, packet.reasonCode);
      else if (packet.cmd === 'connack') {
        this.#accepted = true;
        this.#poison.connected();
      }
    });
    client.on('reconnect', () => this.#onReconnect(client));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onError(client, error));
    client.on('disconnect', (packet) => this.#onDisconnect(packet.reasonCode));
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
      const connected = this.#link === 'connected';
      if (connected && this.#queue.length === 0 && this.#hasRoom(message)) {
        this.#send(message);
      } else if (this.#queue.length >= this.#options.offlineQueueLimit) {
        reject(this.#failed(topic, `${connected ? 'queue' : 'offline queue'} full (${this.#options.offlineQueueLimit} messages)`));
      } else {
        // Waiting for a connection makes it a replay; waiting for the broker's Receive Maximum does not.
        if (!connected) message.waited = true;
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
    // Monotonic: a wall clock stepped back during the stop (NTP) would otherwise stretch it by the step.
    const deadline = performance.now() + timeoutMs;
    clearTimeout(this.#stableTimer);
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.#connectError('the sink is closed'));
    }
    this.#waiters.clear();
    // What waits for a connection is refused now; while connected, what waits for the broker's
    // Receive Maximum goes out as PUBACKs free it, and is waited for with the rest.
    if (this.#link !== 'connected') this.#refuseQueued();
    const client = this.#client;
    if (client) {
      // Acknowledgements can only come over a live connection: wait for them only while there is one.
      while ((this.#inFlight.size > 0 || this.#queue.length > 0) && this.#link === 'connected' && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - performance.now());
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
      const stoppedSaid = await this.#sayStopped(client, deadline);
      const force = this.#inFlight.size > 0 || this.#link !== 'connected' || !stoppedSaid;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          client.stream?.destroy(); // a broker that never closes its side must not hold up shutdown
          resolve();
        }, Math.max(0, deadline - performance.now()));
        client.end(force, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.#refuseQueued();
    for (const message of this.#inFlight) {
      this.#forgetPacketId(message);
      message.reject(this.#failed(message.topic, 'the sink closed before the broker acknowledged the message'));
    }
    this.#inFlight.clear();
    this.#slab.discard();
    this.#slabQos0 = [];
    this.#setLink('offline');
    this.#checkRoom();
    this.#log.info({ event: 'uplink.closed', ...this.counters() }, 'mqtt uplink closed');
  }

  #refuseQueued(): void {
    for (const message of this.#queue.splice(0)) {
      this.#forgetPacketId(message);
      message.reject(this.#failed(message.topic, 'the sink closed before the message was sent'));
    }
  }

  /**
   * Publishes the `stopped` status and waits for its PUBACK, until `deadline` or the connection drops;
   * true when there was nothing to say or the broker took it.
   */
  async #sayStopped(client: MqttClient, deadline: number): Promise<boolean> {
    const status = this.#options.status;
    if (!status || this.#link !== 'connected') return true;
    let acked = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
      client.publish(status.topic, status.stopped, { qos: 1, retain: true }, (error) => {
        acked = !error;
        clearTimeout(timer);
        resolve();
      });
    });
    this.#wake = undefined;
    return acked;
  }

  #send(message: Message): void {
    const { payload, properties } = this.#marked(message);
    const fields: PublishFields = {
      topic: message.topic,
      payload,
      qos: message.qos,
      retain: message.retain,
      dup: message.packetId !== undefined,
      packetId: message.packetId ?? 0,
      v5: this.#version === 5,
      properties,
    };
    const bytes = publishBytes(fields);
    const limit = this.#maxPacketBytes ?? MAX_PACKET_BYTES;
    const topicBytes = Buffer.byteLength(message.topic);
    if (bytes > limit || topicBytes > MAX_STRING_BYTES) {
      this.#forgetPacketId(message);
      this.#counts.failed++;
      const whose = this.#maxPacketBytes === undefined ? 'MQTT allows' : 'the broker accepts (CONNACK Maximum Packet Size)';
      message.reject(this.#refused(message.topic, topicBytes > MAX_STRING_BYTES
        ? `its topic is ${topicBytes} bytes, over the ${MAX_STRING_BYTES} an MQTT string can hold`
        : `its PUBLISH packet is ${bytes} bytes, over the ${limit} bytes ${whose}`));
      this.#checkRoom();
      return;
    }
    if (message.qos === 1 && message.packetId === undefined) {
      const id = this.#packetIds.take();
      if (id === undefined) {
        message.reject(this.#failed(message.topic, 'all 65,535 packet ids are waiting for their acknowledgement'));
        return;
      }
      message.packetId = fields.packetId = id;
      this.#byPacketId.set(id, message);
    }
    if (message.qos === 1) this.#unacked++;
    this.#inFlight.add(message);
    this.#slab.append(fields);
    if (message.qos === 0) this.#slabQos0.push(message);
    if (!this.#flushArmed) {
      this.#flushArmed = true;
      process.nextTick(() => this.#flush());
    }
  }

  /** Whether the broker's Receive Maximum lets `message` be written now. */
  #hasRoom(message: Message): boolean {
    return message.qos === 0 || this.#unacked < this.#receiveMaximum;
  }

  /** Writes what waits, in order, as far as the Receive Maximum lets it (#onConnect, and each PUBACK). */
  #sendQueued(): void {
    let sent = 0;
    while (sent < this.#queue.length && this.#link === 'connected' && this.#hasRoom(this.#queue[sent]!)) this.#send(this.#queue[sent++]!);
    if (sent > 0) this.#queue.splice(0, sent);
  }

  /** Hands the slab's packets to the socket: one write per batch, not per message. */
  #flush(): void {
    this.#flushArmed = false;
    if (!this.#slab.pending) return;
    const stream = this.#client?.stream;
    const qos0 = this.#slabQos0;
    this.#slabQos0 = [];
    if (this.#link !== 'connected' || !stream?.writable) {
      // QoS 1 ones stay in flight and are written again on the next connection (#onConnect).
      this.#slab.discard();
      for (const message of qos0) this.#settleWritten(message, 'the connection dropped before the message was written');
      return;
    }
    const chunks = this.#slab.take();
    for (let i = 0; i < chunks.length; i++) {
      const last = i === chunks.length - 1;
      stream.write(chunks[i], last && qos0.length > 0 ? (error?: Error | null) => {
        for (const message of qos0) this.#settleWritten(message, error ? `the connection failed while the message was written: ${error.message}` : undefined);
      } : undefined);
    }
  }

  /** A QoS 0 message's bytes went to the socket (or could not). */
  #settleWritten(message: Message, failure: string | undefined): void {
    if (!this.#inFlight.delete(message)) return; // already settled by close() or a lost connection
    this.#wake?.();
    this.#checkRoom();
    if (failure !== undefined) message.reject(this.#failed(message.topic, failure));
    else {
      this.#counts.acked++;
      message.resolve();
    }
  }

  /** A PUBACK (parsed by MQTT.js): settles the sink's message of that packet id; MQTT.js's own are its. */
  #onPuback(packetId: number | undefined, reasonCode: number | undefined): void {
    const message = packetId === undefined ? undefined : this.#byPacketId.get(packetId);
    if (!message) return;
    this.#forgetPacketId(message);
    if (!this.#inFlight.delete(message)) return;
    this.#unacked--;
    this.#heardFromBroker();
    if (this.#queue.length > 0) this.#sendQueued();
    this.#wake?.();
    this.#checkRoom();
    // 0x10 "No matching subscribers" is a success (MQTT 5 §3.4.2.1), as MQTT.js takes it.
    if (reasonCode !== undefined && reasonCode >= 0x80) {
      const error = Object.assign(new Error(`Publish error: ${describeReason(reasonCode, 'PUBACK')}`), { code: reasonCode });
      message.reject(this.#publishError(message.topic, error));
    } else {
      this.#counts.acked++;
      this.#poison.acked();
      message.resolve();
    }
  }

  /**
   * A PUBACK shows the link alive: MQTT.js's keepalive is re-armed, at most every quarter keepalive
   * (`reschedulePings` is off: a timer per PUBACK). Else a backlog filling a slow link holds the
   * PINGREQ behind it past MQTT.js's deadline for the PINGRESP, and it drops a busy, healthy connection.
   */
  #heardFromBroker(): void {
    const now = performance.now();
    if (now - this.#keepaliveArmedAt < this.#options.keepaliveMs / 4) return;
    this.#keepaliveArmedAt = now;
    this.#client?.reschedulePing(true);
  }

  #forgetPacketId(message: Message): void {
    if (message.packetId === undefined) return;
    this.#byPacketId.delete(message.packetId);
    this.#packetIds.release(message.packetId);
    message.packetId = undefined;
  }

  /**
   * The broker keeps closing the connection around this message (poison-watch.ts): forget it, so it
   * is not sent again, and refuse it for good (the outbox dead-letters it).
   */
  #refusePoison(message: Message): void {
    const detail = `the broker closed the connection ${POISON_STREAK} times in a row, each within ${POISON_SOON_MS / 1000} s of accepting it, while this message waited for its acknowledgement, and acknowledged nothing: it refuses the message (over its size limit, or a topic it does not allow)`;
    // Back in the queue since the close (#onClose), first, to be written again: not any more.
    const at = this.#queue.indexOf(message);
    if (at >= 0) this.#queue.splice(at, 1);
    this.#counts.failed++;
    this.#forgetPacketId(message);
    const error = this.#refused(message.topic, detail);
    this.#log.error({ event: 'uplink.message_refused', code: error.code, topic: message.topic }, error.message);
    message.reject(error);
    this.#checkRoom();
  }

  #refused(topic: string, detail: string): WgError {
    return new WgError('WG_ERR_UPLINK_REFUSED', { uplink: this.name, detail: `${topicShown(topic)}: ${detail}` });
  }

  /**
   * The message as it goes on the wire: with the stamp's seq and replay flag where `mark` says
   * (message-mark.ts), and over MQTT 5 its remaining message expiry.
   */
  #marked(message: Message): { payload: Buffer | string; properties?: PublishFields['properties'] } {
    const { stamp } = message;
    const v5 = this.#version === 5;
    let payload = message.payload;
    let messageExpiryInterval: number | undefined;
    let userProperties: Record<string, string> | undefined;
    const expiryMs = this.#options.messageExpiryMs;
    if (v5 && expiryMs !== undefined) {
      // Counted from the message's creation: a reading that waited in the outbox has less time left.
      // At least 1 s: dropping old messages is the outbox's max_age, not the broker's.
      const waitedMs = stamp ? Math.max(0, Date.now() - stamp.createdAtMs) : 0;
      messageExpiryInterval = Math.max(1, Math.ceil((expiryMs - waitedMs) / 1000));
    }
    if (stamp !== undefined) {
      const replay = isReplay(stamp, message.waited === true);
      if (replay) this.#counts.replayed++;
      const mode = this.#options.mark === 'auto' ? (v5 ? 'properties' : 'fields') : this.#options.mark;
      if (mode === 'properties' && v5) userProperties = markProperties(stamp, replay);
      else if (mode === 'properties') this.#counts.unmarked++; // a 3.1.1 connection has no properties to carry them
      else if (mode === 'fields') {
        const marked = markFields(typeof payload === 'string' ? Buffer.from(payload) : payload, stamp, replay);
        if (marked) payload = marked;
        else this.#counts.unmarked++;
      }
    }
    if (messageExpiryInterval === undefined && userProperties === undefined) return { payload };
    if (messageExpiryInterval === undefined) return { payload, properties: { userProperties } };
    return { payload, properties: userProperties ? { messageExpiryInterval, userProperties } : { messageExpiryInterval } };
  }

  flushWrites(): void {
    this.#flush();
    const stream = this.#client?.stream as { writableCorked?: number; uncork?: () => void } | undefined;
    // mqtt-packet corks the stream per packet and uncorks it on the next tick; uncorking past zero is a no-op.
    for (let n = stream?.writableCorked ?? 0; n > 0; n--) stream!.uncork!();
  }

  #onConnect(client: MqttClient, sessionPresent: boolean, maxPacketBytes: number | undefined, receiveMaximum: number | undefined): void {
    if (this.#closing) return;
    // A reading goes out as soon as it is handed over: Nagle's algorithm would hold each small
    // PUBLISH until the one before is acknowledged (MQTT.js leaves the socket's default on).
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.#setLink('connected');
    this.#maxPacketBytes = maxPacketBytes;
    this.#receiveMaximum = receiveMaximum ?? 65_535;
    this.#unacked = 0;
    const connection = ++this.#connection;
    // Before the backlog, so that whoever reads the status sees "online" before the data of this connection.
    const status = this.#options.status;
    if (status) {
      // A QoS 1 PUBLISH like the data: it takes one of the broker's Receive Maximum slots until its PUBACK.
      this.#unacked++;
      client.publish(status.topic, status.online, { qos: 1, retain: true }, (error) => {
        if (error) this.#log.warn({ event: 'uplink.status_failed', err: error, topic: status.topic }, 'mqtt uplink could not publish its online status');
        if (connection !== this.#connection || this.#link !== 'connected') return;
        this.#unacked--;
        this.#sendQueued();
      });
    }
    const takeover = this.#takeover.connected();
    if (takeover === 'detected') this.#reportTakeover();
    if (!this.#takeover.inEpisode) this.#lastError = undefined;
    // While the broker keeps closing us right after accepting, the back-off keeps growing.
    if (this.#takeover.streak === 0) this.#resetBackoff();
    this.#armStableTimer();
    this.#log.info({ event: 'uplink.connected', queued: this.#queue.length, protocol: versionName(this.#version), sessionPresent }, 'mqtt uplink connected');
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.#waiters.clear();
    // Synchronous on purpose: no 'close' can interleave, so the backlog goes out in order: first what
    // the last connection left unacknowledged, with its packet ids (#onClose), then the rest.
    this.#sendQueued();
    this.#flush();
  }

  #onReconnect(client: MqttClient): void {
    if (this.#closing) return;
    if (this.#fallingBack) {
      this.#fallingBack = false;
      client.options.reconnectPeriod = this.#reconnectDelayMs;
      this.#setLink('connecting');
      return;
    }
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
    // A close around an unacknowledged message is the broker refusing it, not a takeover (poison-watch.ts).
    const oldestUnacked = [...this.#inFlight].find((m) => m.qos === 1);
    const poison = this.#accepted ? this.#poison.closed(oldestUnacked) : { suspect: false };
    this.#accepted = false;
    if (wasConnected && poison.suspect) this.#takeover.error(true);
    if (wasConnected) this.#takeover.closed();
    // In a takeover episode the one error line says it all; a warning per knock-off would bury it.
    if (wasConnected && !this.#takeover.inEpisode) this.#log.warn({ event: 'uplink.lost' }, 'mqtt uplink connection lost');
    // A QoS 0 message still in flight here may never hear from the dead socket; QoS 1 messages stay in
    // flight and are written again, as waited-for (a replay), once the next connection is up.
    this.#slab.discard();
    this.#slabQos0 = [];
    const unacked: Message[] = [];
    for (const message of this.#inFlight) {
      if (message.qos === 1) {
        message.waited = true;
        unacked.push(message);
      } else message.reject(this.#failed(message.topic, 'the connection dropped before the message was written'));
    }
    this.#inFlight.clear();
    this.#unacked = 0;
    this.#queue.unshift(...unacked);
    if (poison.refuse) this.#refusePoison(poison.refuse);
    this.#checkRoom();
  }

  #onError(client: MqttClient, error: Error & { code?: unknown }): void {
    this.#takeover.error(this.#link === 'connected');
    if (this.#options.protocol === 'auto' && this.#version === 5 && this.#link !== 'connected' && refusesProtocolVersion(error)) {
      this.#version = 4;
      fallBackTo311(client.options);
      // MQTT.js arms its retry from this option right after this event: the next attempt goes at once,
      // and is neither a reconnection nor a step of the back-off (#onReconnect).
      this.#fallingBack = true;
      client.options.reconnectPeriod = 1;
      this.#log.info({ event: 'uplink.protocol_fallback', reason: describeReason(error.code as number, 'CONNACK') }, 'mqtt uplink: the broker does not speak MQTT 5; using 3.1.1 from the next attempt on');
      return;
    }
    const versionHint = this.#version === 5 && refusesProtocolVersion(error) ? '; the broker does not speak MQTT 5: set protocol to auto or "3.1.1"' : '';
    const detail = describeConnectError(error) + versionHint;
    const repeated = this.#lastError?.context.detail === detail;
    this.#lastError = this.#connectError(detail, error);
    if (!repeated) this.#log.warn({ event: 'uplink.connect_failed', err: error, detail }, 'mqtt uplink connection problem');
    // A CONNACK refusal (numeric code) or a certificate that does not verify ends every attempt the
    // same way until someone fixes it: tell waiters now rather than at their timeout.
    if ((typeof error.code === 'number' || isTlsRefusal(error)) && this.#link !== 'connected') {
      for (const waiter of this.#waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(this.#lastError);
      }
      this.#waiters.clear();
    }
  }

  /** An MQTT 5 broker closing the connection says why (session taken over, packet too large, ...). */
  #onDisconnect(reasonCode: number | undefined): void {
    // In a takeover episode its one error line says it all (#reportTakeover).
    if (this.#closing || reasonCode === undefined || reasonCode === 0 || this.#takeover.inEpisode) return;
    const detail = `the broker disconnected: ${describeReason(reasonCode, 'DISCONNECT')}`;
    this.#lastError = this.#connectError(detail);
    this.#log.warn({ event: 'uplink.disconnected', reasonCode }, `mqtt uplink: ${detail}`);
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
        this.#log.info({ event: 'uplink.takeover_over', clientId: this.#options.clientId }, `mqtt uplink connection stable again: client id "${this.#options.clientId}" is no longer taken over`);
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
    this.#log.error({ event: 'uplink.takeover', code: error.code, clientId: this.#options.clientId }, error.message);
  }

  #connectError(detail: string, cause?: unknown): WgError {
    return new WgError('WG_ERR_UPLINK_CONNECT', { uplink: this.name, detail }, { cause });
  }

  /** A PUBACK reason code that refuses the message for good becomes WG_ERR_UPLINK_REFUSED: the outbox dead-letters it. */
  #publishError(topic: string, error: Error & { code?: unknown }): WgError {
    const { code } = error;
    if (typeof code !== 'number' || code < 0x80) return this.#failed(topic, error.message, error);
    const reason = describeReason(code, 'PUBACK');
    if (!refusedForGood(code)) return this.#failed(topic, `the broker refused the message for now: ${reason}`, error);
    this.#counts.failed++;
    return new WgError('WG_ERR_UPLINK_REFUSED', { uplink: this.name, topic, reasonCode: code, detail: `${topic}: ${reason}` }, { cause: error });
  }

  #failed(topic: string, detail: string, cause?: unknown): WgError {
    this.#counts.failed++;
    return new WgError('WG_ERR_UPLINK_PUBLISH', { uplink: this.name, topic, detail }, { cause });
  }
}
