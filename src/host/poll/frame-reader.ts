/**
 * Reads one response from a link, one transaction at a time: bytes until the protocol says a whole
 * frame is there, within the timeout, and never more than the protocol's largest frame.
 */
import type { Clock } from '../../hal/clock.js';
import type { Transport } from '../../hal/transport.js';
import { WgError } from '../errors.js';

export interface FrameSource {
  transport: Transport;
  /** 0: more bytes needed; n > 0: the first n bytes are a frame; negative: not a frame start. */
  frameLength(received: Uint8Array): Promise<number>;
  clock: Clock;
  /** For errors: the device the answer is from. */
  device: string;
  maxFrameBytes: number;
  /**
   * On a serial line, how long one byte takes on the wire, ms (0 elsewhere), and the request's length:
   * `write()` resolves when the OS has the bytes, not when they are sent, and a long answer at 9600
   * baud takes longer to arrive than a short timeout. The timeout counts from the end of the request
   * to the end of an answer that was sent without pause.
   */
  byteTimeMs?: number;
  requestBytes?: number;
}

export async function readFrame(source: FrameSource, timeoutMs: number): Promise<Uint8Array> {
  const { transport, clock, device, maxFrameBytes } = source;
  const byteTime = source.byteTimeMs ?? 0;
  const start = clock.monotonicMs() + (source.requestBytes ?? 0) * byteTime;
  let deadline = start + timeoutMs;
  let received: Uint8Array = new Uint8Array(0);
  while (true) {
    const remaining = deadline - clock.monotonicMs();
    if (remaining <= 0) throw new WgError('WG_ERR_HAL_TIMEOUT', { device, detail: `${timeoutMs} ms` });
    const chunk = await transport.read(remaining);
    received = received.byteLength === 0 ? chunk : concat(received, chunk);
    if (received.byteLength > maxFrameBytes) {
      throw new WgError('WG_ERR_DEVICE_FRAMING', { device, detail: `${received.byteLength} bytes and still no whole frame; a frame has at most ${maxFrameBytes}` });
    }
    const length = await source.frameLength(received);
    if (length < 0) {
      throw new WgError('WG_ERR_DEVICE_FRAMING', { device, detail: `${received.byteLength} bytes starting ${Buffer.from(received.subarray(0, 8)).toString('hex')}` });
    }
    if (length > 0 && byteTime > 0) deadline = Math.max(deadline, start + timeoutMs + length * byteTime);
    if (length > 0 && received.byteLength >= length) {
      if (received.byteLength > length) {
        throw new WgError('WG_ERR_DEVICE_FRAMING', { device, detail: `${received.byteLength - length} unexpected bytes after a ${length}-byte frame` });
      }
      return received;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
