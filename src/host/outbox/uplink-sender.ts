/**
 * Moves one uplink's messages from the outbox to its sink: reads what is pending (oldest first), keeps
 * at most `window` of them handed to the sink and not yet delivered, and removes each from the outbox
 * only once the sink says it was delivered (QoS 1 acknowledged, QoS 0 written). A message the peer
 * refused for good (`WG_ERR_UPLINK_REFUSED`) goes to the dead letters, never round again; any other
 * failure leaves it in the outbox, to be sent again after `retryMs`. So a crash between hand-over and
 * delivery sends it twice, never zero times: at-least-once (docs/delivery.md).
 *
 * Acknowledgements are gathered and removed in one `ack` call per turn of the event loop: the durable
 * store's cost is per call, not per message.
 */
import { isWgError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import type { OutboxStore, StoredMessage } from './outbox-store.js';

export interface UplinkSenderOptions {
  uplink: string;
  store: OutboxStore;
  sink: Sink;
  /** Messages handed to the sink and not yet delivered, at most. */
  window: number;
  /** Wait after a failed delivery before the outbox is read again from its oldest message. */
  retryMs: number;
  logger: Logger;
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
  readonly #o: UplinkSenderOptions;
  readonly #log: Logger;
  /** Seqs handed to the sink and not settled. */
  readonly #inFlight = new Set<number>();
  /** The highest seq handed to the sink since the last failure: the next read starts after it. */
  #after = 0;
  #acks: number[] = [];
  #ackFlush?: NodeJS.Immediate;
  #retry?: NodeJS.Timeout;
  #running = false;
  readonly #idle = new Set<() => void>();

  constructor(options: UplinkSenderOptions) {
    this.#o = options;
    this.#log = options.logger.child({ uplink: options.uplink });
  }

  start(): void {
    this.#running = true;
    this.wake();
  }

  /** New messages may be pending (after an append): hand what the window allows to the sink. */
  wake(): void {
    if (!this.#running || this.#retry) return;
    const room = this.#o.window - this.#inFlight.size;
    if (room <= 0) return;
    for (const message of this.#o.store.pending(this.#o.uplink, room, this.#after)) {
      if (this.#inFlight.has(message.seq)) continue;
      this.#send(message);
    }
  }

  /** Stops handing messages over; resolves once those in flight settled or `timeoutMs` passed. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#running = false;
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
    this.#o.sink.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }).then(
      () => {
        this.counters.delivered++;
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
        this.wake();
      }, this.#o.retryMs);
    }
    if (this.#inFlight.size === 0) for (const done of [...this.#idle]) done();
    if (!failed) this.wake();
  }

  #flushAcks(): void {
    this.#ackFlush = undefined;
    if (this.#acks.length === 0) return;
    const seqs = this.#acks;
    this.#acks = [];
    try {
      this.#o.store.ack(this.#o.uplink, seqs);
    } catch (err) {
      // Not removed: they will be sent again (at-least-once); the store says why it failed.
      this.#log.error({ err, code: (err as { code?: string }).code, messages: seqs.length }, 'outbox could not remove delivered messages; they will be sent again');
    }
  }
}
