/**
 * Writes frame records (request, response, context) into a pipeline's ingress ring. When the ring is
 * full the caller waits for the worker to make room: a frame already read from a device is never
 * dropped. Waits are counted; they show as poll overruns upstream.
 */
import { FRAME_HEADER, FrameStatus, NO_POINT_PUSHED, NO_REQUEST } from '../engine/abi.js';
import type { PushedFrame } from '../sources/push-source.js';
import { frameRecordPayloadLength, writeFramePayload, type FrameContext } from '../engine/frame-record.js';
import type { RingWriter } from '../ring/writer.js';

export class FrameIngress {
  #ring: RingWriter;
  /** Times a write had to wait for room. */
  backPressureWaits = 0;
  framesWritten = 0;
  /** Frames given up because the pipeline stopped while they waited for room. */
  framesDroppedAtStop = 0;
  /** ABI 1.4: unsolicited frames recorded, and those kept back from a decoder too old to take them. */
  unsolicitedWritten = 0;
  unsolicitedKeptBack = 0;
  /** ABI 1.5: pushed frames recorded. */
  pushedWritten = 0;
  #closed = false;
  readonly #takesUnsolicited: boolean;

  /** `takesUnsolicited`: the pipeline's decoder declares ABI 1.4 or later (engine/abi.ts, takesUnsolicited). */
  constructor(ring: RingWriter, options: { takesUnsolicited?: boolean } = {}) {
    this.#ring = ring;
    this.#takesUnsolicited = options.takesUnsolicited ?? false;
  }

  /**
   * A frame that answers no request (an I-Am, a COV notification): recorded with status unsolicited,
   * request index NO_REQUEST, the sender's address as UTF-8 text in the request part and the frame as
   * the response (docs/plugin-abi.md, "Unsolicited frames"). `device` is the device it came from, or
   * NO_DEVICE. Returns false, recording nothing, when the decoder is too old to be handed one.
   */
  async writeUnsolicited(device: number, sender: string, frame: Uint8Array, ts: number): Promise<boolean> {
    if (!this.#takesUnsolicited) {
      this.unsolicitedKeptBack++;
      return false;
    }
    await this.write({ device, request: NO_REQUEST, status: FrameStatus.unsolicited, seq: 0, ts }, new TextEncoder().encode(sender), frame);
    this.unsolicitedWritten++;
    return true;
  }

  /** ABI 1.5: the most body bytes a pushed record may carry, with `requestBytes` of request part (its sender, resource and media type). */
  maxPushedBody(requestBytes: number): number {
    return Math.max(0, Math.min(0xffff, this.#ring.maxPayload - (FRAME_HEADER - 4) - requestBytes));
  }

  /**
   * A body a device pushed (ABI 1.5, docs/plugin-abi.md "Pushed frames"): status pushed, request
   * index NO_REQUEST, the point it maps to in the u32 at offset 12, the request part "sender LF
   * resource LF media type" in UTF-8, the body as the response. Resolves true once committed to the
   * ring, false when the pipeline stopped first (or the record cannot fit: the caller checks the body
   * against `maxPushedBody` before). A decoder older than 1.5 never gets here: pipeline assembly
   * refuses a push source in front of one.
   */
  async writePushed(frame: PushedFrame): Promise<boolean> {
    const request = new TextEncoder().encode(`${frame.sender}\n${frame.resource}\n${frame.mediaType}`);
    if (request.byteLength > 0xffff || frame.body.byteLength > this.maxPushedBody(request.byteLength)) return false;
    // Its own outcome, not a change of framesWritten: another writer may commit while this one waits.
    if (!(await this.write({ device: frame.device, request: NO_REQUEST, status: FrameStatus.pushed, seq: 0, ts: frame.ts, point: frame.point ?? NO_POINT_PUSHED }, request, frame.body))) return false;
    this.pushedWritten++;
    return true;
  }

  /** Resolves true once the record is committed, false when it was given up because the pipeline stopped. */
  async write(ctx: FrameContext, request: Uint8Array, response?: Uint8Array): Promise<boolean> {
    const len = frameRecordPayloadLength(request.byteLength, response?.byteLength ?? 0);
    let at = this.#ring.reserve(len);
    while (at < 0) {
      // Stopping while the ring stays full (the uplink is down, nothing drains): waiting on would hold
      // the stop for as long as the uplink stays down, past any TimeoutStopSec.
      if (this.#closed) {
        this.framesDroppedAtStop++;
        return false;
      }
      this.backPressureWaits++;
      await this.#ring.waitForSpace(len, 1000);
      at = this.#ring.reserve(len);
    }
    writeFramePayload(this.#ring.bytes, this.#ring.view, at, ctx, request, response);
    this.#ring.commit();
    this.framesWritten++;
    return true;
  }

  /** The pipeline is stopping: a write that has to wait for room gives up (within a second) instead. */
  close(): void {
    this.#closed = true;
  }
}
