/**
 * What a datagram link's device sends unasked (ABI 1.4: an I-Am, a COV notification), on its way into
 * the ingress ring, and the reply the decoder builds for it (ABI 1.6 wg_reply: a Simple-ACK for a
 * confirmed COV notification), sent once the frame is in the ring, so an acknowledged notification is
 * never one the gateway lost.
 *
 * The link's reader hands frames over without waiting (it must go on reading answers), so under a
 * flood this is where memory would grow: a full ring holds each write back, and each reply is a call
 * into the pipeline worker. Both are bounded: past MAX_WAITING frames waiting for the ring, a frame
 * is dropped; past MAX_REPLYING replies in the worker, a frame gets none (a device repeats a confirmed
 * notification nobody acknowledged, then gives up). Both are counted.
 */
import type { FrameIngress } from './frame-ingress.js';

/** Frames that may wait for room in the ring at once: a second of a 1 k/s device's notifications. */
const MAX_WAITING = 1024;
/** Replies that may be in the worker at once: what one confirmed device keeps waiting, many times over. */
const MAX_REPLYING = 256;

export interface UnsolicitedCounters {
  /** Frames dropped because MAX_WAITING frames already waited for the ring. */
  dropped: number;
  /** Frames given no reply because MAX_REPLYING replies were already being built. */
  repliesSkipped: number;
  /** Replies sent back. */
  replies: number;
}

export interface UnsolicitedIntakeOptions {
  ingress: FrameIngress;
  /** The device whose link it is (its index), and its address as the record carries it. */
  device: number;
  sender: string;
  wallMs: () => number;
  /** The decoder's wg_reply, when it has one; null: no reply. */
  reply?: (frame: Uint8Array) => Promise<Uint8Array | null>;
  /** Whether a frame may want a reply at all (the framing rule's `replies`); absent: any may. */
  wantsReply?: (frame: Uint8Array) => boolean;
  /** Sends a reply to the device. */
  send: (frame: Uint8Array) => Promise<void>;
}

export class UnsolicitedIntake {
  readonly counters: UnsolicitedCounters = { dropped: 0, repliesSkipped: 0, replies: 0 };
  readonly #o: UnsolicitedIntakeOptions;
  #waiting = 0;
  #replying = 0;

  constructor(options: UnsolicitedIntakeOptions) {
    this.#o = options;
  }

  /** A frame that answered no request: into the ring, then its reply, if any. Never throws. */
  take(frame: Uint8Array): void {
    if (this.#waiting >= MAX_WAITING) {
      this.counters.dropped++;
      return;
    }
    this.#waiting++;
    const { ingress, device, sender, wallMs } = this.#o;
    void ingress.writeUnsolicited(device, sender, frame, wallMs())
      .then((written) => (written ? this.#reply(frame) : undefined))
      .catch(() => undefined)
      .finally(() => this.#waiting--);
  }

  async #reply(frame: Uint8Array): Promise<void> {
    const reply = this.#o.reply;
    if (!reply || (this.#o.wantsReply && !this.#o.wantsReply(frame))) return;
    if (this.#replying >= MAX_REPLYING) {
      this.counters.repliesSkipped++;
      return;
    }
    this.#replying++;
    try {
      const answer = await reply(frame);
      if (answer) {
        await this.#o.send(answer);
        this.counters.replies++;
      }
    } catch {
      // A failed plugin call is logged by the worker; a reply that could not be sent is the device's to repeat.
    } finally {
      this.#replying--;
    }
  }
}
