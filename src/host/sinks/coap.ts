/**
 * The CoAP uplink's sink (node-coap): each message is one request (POST or PUT) to the uplink's URI
 * with the message's topic appended as path segments. QoS 1 is a confirmable request, retransmitted
 * with RFC 7252's exponential back-off (4.2) and acknowledged by a 2.xx response; QoS 0 is
 * non-confirmable, done once written. A payload larger than the block size goes block-wise (RFC 7959
 * Block1), each block confirmed on its own, so a lost block is the only one sent again.
 *
 * UDP has no connection: the sink is `connected` while exchanges succeed and `offline` after one timed
 * out (no acknowledgement within RFC 7252 MAX_TRANSMIT_WAIT), until the next succeeds. Messages wait
 * in order in memory; at most `inFlight` requests are outstanding (RFC 7252 4.7 NSTART, default 1).
 * A 4.xx response refuses the message for good (too large, not authorised): it is rejected and
 * counted, never retried; a timeout, a 5.xx response, or one of the 4.xx that say "later" (4.29,
 * 4.08) puts it back at the head of the queue, after the reconnect back-off.
 */
import { Agent, parameters, request } from 'coap';
import { WgError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MessageStamp, Sink, SinkCounters, SinkPublishOptions, SinkQos, SinkState, SinkStateListener } from './sink.js';
import { SinkStateListeners } from './state-listeners.js';
import { isReplay, markFields, type MarkMode } from './message-mark.js';

export interface CoapSinkOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Path segments of the uplink's URI; the topic's levels follow them. */
  readonly path: readonly string[];
  readonly method: 'POST' | 'PUT';
  readonly qos: SinkQos;
  /** Block1 size in bytes: 16, 32, ... 1024. */
  readonly blockSize: number;
  readonly inFlight: number;
  /** Retransmissions of a confirmable request before it times out (RFC 7252 MAX_RETRANSMIT). */
  readonly maxRetransmit: number;
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  /** Messages held in memory before publish rejects (default 100 000). */
  readonly queueLimit?: number;
  /** How a stamped message carries its seq and replay flag (message-mark.ts); `auto` and `fields` are the same here. */
  readonly mark?: MarkMode;
}

interface Message {
  topic: string;
  payload: Buffer;
  confirmable: boolean;
  stamp: MessageStamp | undefined;
  /** It waited for an exchange to succeed: sent after a failure, or while the server was unreachable (a replay). */
  waited?: boolean;
  resolve: () => void;
  reject: (err: WgError) => void;
}

const DEFAULT_QUEUE_LIMIT = 100_000;

/**
 * The 4.xx that mean "not now" rather than "never", retried after the back-off like a 5.xx: 4.29 Too
 * Many Requests (RFC 8516: come back later) and 4.08 Request Entity Incomplete (RFC 7959 2.9.2: the
 * server lacks the earlier blocks, as after its restart mid-transfer; sent again, the message goes whole).
 */
const LATER = new Set(['4.29', '4.08']);

/**
 * How long a confirmable exchange may wait for its acknowledgement before it counts as lost: RFC 7252
 * 4.8.2 MAX_TRANSMIT_WAIT for this uplink's retransmissions, ACK_TIMEOUT × (2^(MAX_RETRANSMIT+1) − 1)
 * × ACK_RANDOM_FACTOR (93 s at the defaults), once per block of a block-wise transfer. node-coap's own
 * timeout is EXCHANGE_LIFETIME (247 s): after its last retransmission a message whose answers were all
 * lost sat 2.5 minutes longer than the protocol allows before it was sent again.
 */
export function transmitWaitMs(maxRetransmit: number, blocks: number): number {
  return parameters.ackTimeout * (2 ** (maxRetransmit + 1) - 1) * parameters.ackRandomFactor * 1000 * blocks;
}

export class CoapSink implements Sink {
  readonly name: string;
  readonly #o: CoapSinkOptions;
  readonly #log: Logger;
  /**
   * One node-coap agent (one UDP socket) per exchange, closed when it settles. A shared agent marks
   * itself closing when its last request is answered and never unmarks it: a request made in the next
   * moment had its retransmissions cancelled and its socket closed under it, and hung for good
   * (seen in a CI run with one datagram lost). An agent per exchange has nobody to share that with.
   */
  readonly #agents = new Set<Agent>();
  readonly #socketType: 'udp4' | 'udp6';
  #queue: Message[] = [];
  #inFlight = 0;
  #state: SinkState = 'offline';
  #lastError: WgError | undefined;
  #counts = { published: 0, acked: 0, failed: 0, reconnects: 0, unmarked: 0, replayed: 0 };
  #retryAt = 0;
  #retryMs: number;
  #retryTimer?: NodeJS.Timeout;
  #started = false;
  #closing = false;
  readonly #connectedWaiters = new Set<() => void>();
  readonly #backlogWaiters: Array<{ limit: number; resolve: () => void }> = [];
  readonly #drained = new Set<() => void>();
  #connectedSinceMs: number | undefined;
  #startedAtMs = 0;
  readonly #stateListeners = new SinkStateListeners();

  constructor(options: CoapSinkOptions, logger: Logger) {
    this.name = options.name;
    this.#o = options;
    this.#log = logger.child({ uplink: options.name });
    this.#retryMs = options.reconnect.minMs;
    this.#socketType = options.host.includes(':') ? 'udp6' : 'udp4';
  }

  get state(): SinkState {
    return this.#state;
  }

  get lastError(): WgError | undefined {
    return this.#lastError;
  }

  get connectedSinceMs(): number | undefined {
    return this.#state === 'connected' ? this.#connectedSinceMs : undefined;
  }

  onStateChange(listener: SinkStateListener): () => void {
    return this.#stateListeners.add(listener);
  }

  #setState(state: SinkState): void {
    // The first exchange of a run does not start a new connection: the run does (see #marked).
    if (state === 'connected') this.#connectedSinceMs = this.#state === 'connecting' ? this.#startedAtMs : Date.now();
    this.#state = state;
    this.#stateListeners.changed(state);
  }

  counters(): SinkCounters {
    return { ...this.#counts, queued: this.#queue.length };
  }

  backlog(): number {
    return this.#queue.length + this.#inFlight;
  }

  whenBacklogBelow(limit: number): Promise<void> {
    if (this.backlog() < limit || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#backlogWaiters.push({ limit, resolve }));
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#startedAtMs = Date.now();
    this.#setState('connecting');
    this.#pump();
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#connectedWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#connectedWaiters.delete(done);
        reject(new WgError('WG_ERR_UPLINK_CONNECT', { uplink: this.name, detail: this.#lastError?.message ?? `no exchange with ${this.#o.host}:${this.#o.port} succeeded within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.#connectedWaiters.add(done);
    });
  }

  publish(topic: string, payload: Uint8Array | string, options: SinkPublishOptions = {}): Promise<void> {
    this.#counts.published++;
    if (this.#closing) return Promise.reject(this.#fail(topic, 'the sink is closed'));
    if (this.#queue.length >= (this.#o.queueLimit ?? DEFAULT_QUEUE_LIMIT)) return Promise.reject(this.#fail(topic, 'the queue is full'));
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, payload: bytes, confirmable: (options.qos ?? this.#o.qos) === 1, stamp: options.stamp, waited: this.#state === 'offline', resolve, reject });
      this.#pump();
    });
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.#state === 'closed') return;
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#drained.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const message of this.#queue.splice(0)) message.reject(this.#fail(message.topic, 'the sink closed before the message was sent'));
    this.#setState('closed');
    for (const w of this.#backlogWaiters.splice(0)) w.resolve();
    for (const agent of this.#agents) agent.close();
    this.#agents.clear();
    this.#log.info({ event: 'uplink.closed', ...this.counters() }, 'coap uplink closed');
  }

  #pump(): void {
    if (!this.#started || this.#closing) return;
    const wait = this.#retryAt - performance.now();
    if (wait > 0) {
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    while (this.#inFlight < this.#o.inFlight && this.#queue.length > 0) this.#send(this.#queue.shift()!);
  }

  #send(message: Message): void {
    this.#inFlight++;
    const pathname = '/' + [...this.#o.path, ...message.topic.split('/').filter((s) => s !== '')].map(encodeURIComponent).join('/');
    const body = this.#marked(message);
    const agent = new Agent({ type: this.#socketType });
    this.#agents.add(agent);
    const req = request({
      hostname: this.#o.host, port: this.#o.port, pathname, method: this.#o.method,
      confirmable: message.confirmable, agent, retrySend: this.#o.maxRetransmit,
      ...(body.byteLength > this.#o.blockSize ? { options: { Block1: Buffer.of(Math.log2(this.#o.blockSize) - 4) } } : {}),
    });
    let settled = false;
    const lost = (): void => settle('retry', `no acknowledgement from ${this.#o.host}:${this.#o.port} after ${this.#o.maxRetransmit} retransmissions`);
    const giveUp = message.confirmable ? setTimeout(lost, transmitWaitMs(this.#o.maxRetransmit, Math.max(1, Math.ceil(body.byteLength / this.#o.blockSize)))) : undefined;
    const settle = (outcome: 'acked' | 'refused' | 'retry', detail?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      this.#inFlight--;
      this.#agents.delete(agent);
      // After node-coap's own handling of this answer (an ACK it may still send for it).
      setImmediate(() => agent.close());
      if (outcome === 'acked') {
        this.#counts.acked++;
        this.#up();
        message.resolve();
      } else if (outcome === 'refused') {
        this.#counts.failed++;
        this.#up();
        const err = new WgError('WG_ERR_UPLINK_REFUSED', { uplink: this.name, detail: `${message.topic}: ${detail!}` });
        this.#log.warn({ event: 'uplink.message_refused', code: err.code, topic: message.topic }, err.message);
        message.reject(err);
      } else {
        this.#down(detail!);
        message.waited = true;
        this.#queue.unshift(message);
      }
      this.#wakeBacklog();
      if (this.#inFlight === 0) for (const d of [...this.#drained]) d();
      // Not from inside node-coap's response handler: the agent closes an idle socket right after it,
      // and a request set up before that would be sent on the closed socket.
      setImmediate(() => this.#pump());
    };
    req.on('response', (res: { code: string }) => {
      const cls = Number(res.code.split('.')[0]);
      if (cls === 2) settle('acked');
      else if (cls === 4 && !LATER.has(res.code)) settle('refused', `the server refused it for good with ${res.code}`);
      else settle('retry', `the server answered ${res.code}`);
    });
    req.on('timeout', lost);
    req.on('error', (err: Error) => settle('retry', err.message));
    req.end(body);
    if (!message.confirmable) setImmediate(() => settle('acked'));
  }

  /** The payload with the stamp's seq and replay flag in its JSON object (message-mark.ts), unless `mark` is none. */
  #marked(message: Message): Buffer {
    const { stamp, payload } = message;
    const mark = this.#o.mark ?? 'auto';
    if (stamp === undefined) return payload;
    // Until an exchange fails, the "connection" is the sink's life: it began at start().
    const replay = isReplay(stamp, message.waited === true || this.#state === 'offline');
    if (replay) this.#counts.replayed++;
    if (mark === 'none' || mark === 'properties') return payload;
    const marked = markFields(payload, stamp, replay);
    if (marked) return marked;
    this.#counts.unmarked++;
    return payload;
  }

  #up(): void {
    if (this.#state !== 'connected') {
      this.#setState('connected');
      this.#lastError = undefined;
      this.#retryMs = this.#o.reconnect.minMs;
      this.#log.info({ event: 'uplink.connected', queued: this.#queue.length }, 'coap uplink exchanging');
      for (const w of [...this.#connectedWaiters]) w();
    }
  }

  #down(detail: string): void {
    this.#lastError = new WgError('WG_ERR_UPLINK_CONNECT', { uplink: this.name, detail });
    if (this.#state === 'connected' || this.#state === 'connecting') this.#log.warn({ event: 'uplink.connect_failed', code: this.#lastError.code, retryMs: this.#retryMs }, this.#lastError.message);
    this.#setState('offline');
    this.#counts.reconnects++;
    this.#retryAt = performance.now() + this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#o.reconnect.maxMs);
  }

  #wakeBacklog(): void {
    const backlog = this.backlog();
    for (let i = this.#backlogWaiters.length - 1; i >= 0; i--) {
      if (backlog < this.#backlogWaiters[i]!.limit) this.#backlogWaiters.splice(i, 1)[0]!.resolve();
    }
  }

  #fail(topic: string, detail: string): WgError {
    return new WgError('WG_ERR_UPLINK_PUBLISH', { uplink: this.name, detail: `${topic}: ${detail}` });
  }
}
