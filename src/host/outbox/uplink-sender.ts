/**
 * Moves one uplink's messages from the outbox to its sink: reads what is pending (oldest first), keeps
 * at most `window` of them handed to the sink and not yet delivered (one while the link is away), and removes each from the outbox
 * only once the sink says it was delivered (QoS 1 acknowledged, QoS 0 written). A message the peer
 * refused for good (`WG_ERR_UPLINK_REFUSED`) goes to the dead letters, never round again; any other
 * failure leaves it in the outbox, to be sent again after `retryMs`. So a crash between hand-over and
 * delivery sends it twice, never zero times: at-least-once (docs/delivery.md).
 *
 * Acknowledgements are gathered and removed in one `ack` call per turn of the event loop: the durable
 * store's cost is per call, not per message.
 *
 * A sender that has handed over everything the outbox held is *caught up*: new messages are then
 * offered to it as they are written, before their sync (`offer`), and go out at once, with no read
 * of the store and no wait for the disk. Anything else (the link away, the window full, a failure,
 * live_first pacing) makes it read the store again, oldest first, as above.
 *
 * Replay (what the outbox holds when the link returns) goes one of two ways:
 * - `in_order`: oldest first, as fast as the window allows; per stream, the order of making.
 * - `live_first`: messages made after the connection came up go out at once; the backlog made before
 *   it goes out oldest first, behind them, at most `ratePerS` a second (a token bucket), so a broker or
 *   a metered link is not flooded. A stream's live readings then overtake its backlog; each carries
 *   its seq and replay flag (message-mark.ts) for the consumer to order them.
 * Every message is handed over with its stamp (seq, creation time) for the sink to mark it.
 */
import { isWgError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import type { OutboxStore, StoredMessage } from './outbox-store.js';
import { LiveFirst } from './live-first.js';
import { ReplayWatch } from './replay-watch.js';
import { LatencyHistogram } from '../metrics/latency-histogram.js';

export type ReplayPacing = { readonly mode: 'in_order' } | { readonly mode: 'live_first'; readonly ratePerS: number };

export interface UplinkSenderOptions {
  uplink: string;
  store: OutboxStore;
  sink: Sink;
  /** Messages handed to the sink and not yet delivered, at most. */
  window: number;
  /** Wait after a failed delivery before the outbox is read again from its oldest message. */
  retryMs: number;
  logger: Logger;
  /** Default `in_order`. */
  replay?: ReplayPacing;
}

export interface UplinkSenderCounters {
  /** Handed to the sink (a message sent again after a failure counts again). */
  sent: number;
  delivered: number;
  deadLettered: number;
  /** Deliveries that failed and were left in the outbox for another attempt. */
  failed: number;
}

export class UplinkSender {
  readonly counters: UplinkSenderCounters = { sent: 0, delivered: 0, deadLettered: 0, failed: 0 };
  /** From a message's making to its delivery (wall clock: the making is wall time, kept across restarts). */
  readonly deliveryLatency = new LatencyHistogram();
  readonly #o: UplinkSenderOptions;
  readonly #log: Logger;
  /** Seqs handed to the sink and not settled. */
  readonly #inFlight = new Set<number>();
  /** The highest seq handed to the sink since the last failure: the next read starts after it. */
  #after = 0;
  #acks: number[] = [];
  #ackFlush?: NodeJS.Immediate;
  #wakeFlush?: NodeJS.Immediate;
  #retry?: NodeJS.Timeout;
  #running = false;
  readonly #idle = new Set<() => void>();
  readonly #pacing: LiveFirst | undefined;
  #stopWatching?: () => void;
  #replay?: ReplayWatch;
  /** Seqs up to this one were handed out before the current connection came up: their sending is a replay. */
  #backlogUpTo = 0;
  /** Every pending message with a seq above #after was offered since the last read found none: nothing to read. */
  #caughtUp = false;

  constructor(options: UplinkSenderOptions) {
    this.#o = options;
    this.#log = options.logger.child({ uplink: options.uplink });
    if (options.replay?.mode === 'live_first') this.#pacing = new LiveFirst(options.replay.ratePerS, options.window);
  }

  start(): void {
    this.#running = true;
    // What a previous run left is a backlog whatever the link does.
    this.#backlogUpTo = this.#o.store.lastSeq();
    this.#stopWatching = this.#o.sink.onStateChange((state) => {
      if (state !== 'connected') return;
      // Whatever the outbox holds now was made before this connection: it is the backlog.
      this.#backlogUpTo = this.#o.store.lastSeq();
      this.#pacing?.connected(this.#backlogUpTo);
      this.#watchReplay();
      this.wake();
    });
    if (this.#o.sink.state === 'connected') this.#pacing?.connected(this.#o.store.lastSeq());
    this.wake();
  }

  /** New messages may be pending (after an append that was not offered): hand what the window allows to the sink. */
  wake(): void {
    this.#caughtUp = false;
    this.#pump();
  }

  /** Hands what the window allows to the sink; caught up, there is nothing to read (see the header). */
  #pump(): void {
    if (!this.#running || this.#retry) return;
    if (this.#o.sink.state !== 'connected') {
      this.#caughtUp = false;
      // While the link is away the sink gets one message, its oldest: enough for a sink that finds its
      // link by trying (CoAP), and nothing piles up in its memory that the outbox's caps cannot reach.
      if (this.#inFlight.size === 0) for (const message of this.#o.store.pending(this.#o.uplink, 1)) this.#send(message);
      return;
    }
    let room = this.#o.window - this.#inFlight.size;
    if (room <= 0) return;
    if (!this.#pacing) {
      if (this.#caughtUp) return;
      const batch = this.#o.store.pending(this.#o.uplink, room, this.#after);
      for (const message of batch) {
        if (!this.#inFlight.has(message.seq)) this.#send(message);
      }
      // Fewer than asked: that was all of it, and from now on every new message is offered.
      this.#caughtUp = batch.length < room;
      return;
    }
    const pacing = this.#pacing;
    for (const message of this.#o.store.pending(this.#o.uplink, room, pacing.liveAfter)) {
      pacing.liveAfter = message.seq;
      if (!this.#inFlight.has(message.seq)) {
        this.#send(message);
        room--;
      }
    }
    while (room > 0 && !pacing.backlogDone) {
      const allowed = pacing.bucket.take(room);
      if (allowed === 0) {
        pacing.armRefill(() => this.wake());
        return;
      }
      const batch = this.#o.store.pending(this.#o.uplink, allowed, pacing.backlogAfter).filter((m) => m.seq < pacing.liveFrom);
      if (batch.length < allowed) pacing.backlogDone = true;
      for (const message of batch) {
        pacing.backlogAfter = message.seq;
        if (!this.#inFlight.has(message.seq)) {
          this.#send(message);
          room--;
        }
      }
    }
  }

  /**
   * Reads the outbox again from its oldest message: messages may now be pending below the sender's
   * position (a durable store that could not be read came back with its backlog). Those in flight are
   * skipped by seq.
   */
  rewind(): void {
    this.#after = 0;
    this.#pacing?.rewind();
    this.wake();
  }

  /**
   * Messages of this uplink just written to the outbox, before their sync (`BeforeSync`): sent now
   * when the sender is caught up, in order, as far as the window allows. False when it did not send
   * them all; `wake` after the append then reads the rest from the store. Never calls the store.
   */
  offer(messages: readonly StoredMessage[]): boolean {
    if (!this.#caughtUp || !this.#running || this.#retry || this.#pacing || this.#o.sink.state !== 'connected') return false;
    for (const message of messages) {
      if (this.#inFlight.size >= this.#o.window) {
        this.#caughtUp = false;
        return false;
      }
      // Its payload is the store's copy (BeforeSync), which a sink may hold queued.
      this.#send(message);
    }
    return true;
  }

  /** Stops handing messages over; resolves once those in flight settled or `timeoutMs` passed. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#running = false;
    this.#stopWatching?.();
    this.#pacing?.disarm();
    if (this.#wakeFlush) clearImmediate(this.#wakeFlush);
    clearTimeout(this.#retry);
    if (this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#idle.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.#flushAcks();
  }

  #send(message: StoredMessage): void {
    this.#inFlight.add(message.seq);
    this.#after = Math.max(this.#after, message.seq);
    this.counters.sent++;
    const stamp = { seq: message.seq, createdAtMs: message.createdAtMs, replay: message.seq <= this.#backlogUpTo };
    this.#o.sink.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain, stamp }).then(
      () => {
        this.counters.delivered++;
        this.deliveryLatency.observe(Date.now() - message.createdAtMs);
        this.#acks.push(message.seq);
        this.#ackFlush ??= setImmediate(() => this.#flushAcks());
        this.#settled(message.seq);
      },
      (err: unknown) => {
        if (isWgError(err, 'WG_ERR_UPLINK_REFUSED')) {
          this.counters.deadLettered++;
          this.#o.store.deadLetter(this.#o.uplink, message.seq, err.message);
          this.#settled(message.seq);
          return;
        }
        this.counters.failed++;
        this.#settled(message.seq, true);
      },
    );
  }

  #settled(seq: number, failed = false): void {
    this.#inFlight.delete(seq);
    if (failed && this.#running && !this.#retry) {
      // Read again from the oldest pending message once the sink had time to recover; the ones still
      // in flight are skipped by seq, the failed ones come round again.
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#after = 0;
        this.#pacing?.rewind();
        this.wake();
      }, this.#o.retryMs);
    }
    if (this.#inFlight.size === 0) for (const done of [...this.#idle]) done();
    if (!failed) this.#wakeSoon();
  }

  /** Logs the backlog a connection found, and once it is through, how long that took and at what rate. */
  #watchReplay(): void {
    const { messages } = this.#o.store.stats(this.#o.uplink);
    if (messages === 0) {
      this.#replay = undefined;
      return;
    }
    const lastSeq = this.#o.store.lastSeq();
    this.#log.info({ event: 'outbox.replay', messages, pacing: this.#o.replay?.mode ?? 'in_order' }, `uplink connected with ${messages} messages waiting in the outbox: replaying them`);
    this.#replay = new ReplayWatch(() => {
      const head = this.#o.store.pending(this.#o.uplink, 1)[0];
      return head === undefined || head.seq > lastSeq;
    }, (acked, ms) => {
      this.#replay = undefined;
      const rate = ms > 0 ? Math.round((acked * 1000) / ms) : acked;
      this.#log.info({ event: 'outbox.caught_up', delivered: acked, ms: Math.round(ms), perS: rate }, `outbox caught up: the backlog is delivered, ${acked} messages in ${(ms / 1000).toFixed(1)} s (${rate}/s, live ones included)`);
    });
  }

  /** One read of the outbox per turn for all the deliveries of that turn, not one per delivery. */
  #wakeSoon(): void {
    this.#wakeFlush ??= setImmediate(() => {
      this.#wakeFlush = undefined;
      this.#pump();
    });
  }

  #flushAcks(): void {
    this.#ackFlush = undefined;
    if (this.#acks.length === 0) return;
    const seqs = this.#acks;
    this.#acks = [];
    try {
      this.#o.store.ack(this.#o.uplink, seqs);
      this.#replay?.acked(seqs.length);
    } catch (err) {
      // Not removed: they will be sent again (at-least-once); the store says why it failed.
      this.#log.error({ event: 'outbox.remove_failed', err, code: (err as { code?: string }).code, messages: seqs.length }, 'outbox could not remove delivered messages; they will be sent again');
    }
  }
}
