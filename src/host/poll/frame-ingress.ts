/**
 * Writes frame records (request, response, context) into a pipeline's ingress ring. When the ring is
 * full the caller waits for the worker to make room: a frame already read from a device is never
 * dropped. Waits are counted; they show as poll overruns upstream.
 */
import { frameRecordPayloadLength, writeFramePayload, type FrameContext } from '../engine/frame-record.js';
import type { RingWriter } from '../ring/writer.js';

export class FrameIngress {
  #ring: RingWriter;
  /** Times a write had to wait for room. */
  backPressureWaits = 0;
  framesWritten = 0;

  constructor(ring: RingWriter) {
    this.#ring = ring;
  }

  async write(ctx: FrameContext, request: Uint8Array, response?: Uint8Array): Promise<void> {
    const len = frameRecordPayloadLength(request.byteLength, response?.byteLength ?? 0);
    let at = this.#ring.reserve(len);
    while (at < 0) {
      this.backPressureWaits++;
      await this.#ring.waitForSpace(len, 1000);
      at = this.#ring.reserve(len);
    }
    writeFramePayload(this.#ring.bytes, this.#ring.view, at, ctx, request, response);
    this.#ring.commit();
    this.framesWritten++;
  }
}
