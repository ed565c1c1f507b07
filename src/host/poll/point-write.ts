/**
 * Writes one point's value to its device: the decoder encodes the frame from the point's type, order
 * and scale (the inverse of the read, ABI 1.2), the link's arbiter grants the link between polls (a
 * write never runs alongside a poll on a bus), the device's answer is read like any response, and the
 * decoder says whether it confirms the write. The API rules and commands will use; `wasmgate write`
 * uses it for commissioning.
 */
import type { Clock } from '../../hal/clock.js';
import type { ResolvedDevice, ResolvedPoint } from '../config/resolved.js';
import { isWgError, WgError, type ErrorCode } from '../errors.js';
import { readFrame } from './frame-reader.js';
import type { LinkArbiter } from './link-arbiter.js';

export type WriteVerdict = { ok: true } | { ok: false; code: string; detail: string; exception?: number };

export interface PointWriteProtocol {
  writeFrame(device: number, point: number, value: number, seq: number): Promise<Uint8Array>;
  checkWrite(point: number, request: Uint8Array, response: Uint8Array): Promise<WriteVerdict>;
  frameLength(received: Uint8Array): Promise<number>;
}

export interface WriteRequest {
  device: ResolvedDevice;
  point: ResolvedPoint;
  value: number;
}

export interface WriteResult {
  device: string;
  point: string;
  value: number;
  /** Request sent to the answer read, ms. */
  rttMs: number;
}

/** The BACnet PDU types (ASHRAE 135, 20.1.1) by which a device refuses a confirmed request. */
const BACNET_REFUSALS: Record<number, string> = { 5: 'error', 6: 'reject', 7: 'abort' };

/** Resolves when the device confirmed the write; rejects with a WgError saying why it did not. */
export async function writePoint(request: WriteRequest, link: LinkArbiter, protocol: PointWriteProtocol, clock: Clock, maxFrameBytes: number): Promise<WriteResult> {
  const { device, point, value } = request;
  const context = { device: device.name, point: point.name };
  if (point.access === 'read') {
    throw new WgError('WG_ERR_WRITE_REFUSED', { ...context, detail: 'the point is read-only (access: read); declare access: write or read_write to write it' });
  }
  if (Number.isNaN(value) && point.protocol !== 'bacnet') {
    throw new WgError('WG_ERR_WRITE_REFUSED', { ...context, detail: 'relinquish (a Null) empties a BACnet point\'s priority; a Modbus point takes a value' });
  }
  // A datagram can be lost either way: a BACnet device's write is sent again after its APDU timeout,
  // up to its retries, as the standard's client does (ASHRAE 135, 5.4.4.1). Writing the same value at
  // the same priority twice leaves the device as once, so a retry after a lost answer does no harm. A
  // stream link (Modbus) carries its bytes or fails; its write is sent once.
  const attempts = link.link.framing === 'bacnet_ip' ? device.retries + 1 : 1;
  let frame: Uint8Array;
  let response: Uint8Array;
  let sentAt: number;
  for (let attempt = 1; ; attempt++) {
    const seq = link.nextSeq();
    // The decoder refuses what the point cannot take exactly (out of range, not finite): before the bus.
    frame = await protocol.writeFrame(device.index, point.id, value, seq);
    const grant = await link.acquire();
    sentAt = clock.monotonicMs();
    try {
      const opened = await link.open();
      if (opened !== undefined) {
        // Say that nothing went out: "did not confirm" alone leaves the engineer wondering whether it was written.
        const why = opened === 'backing-off' ? `link ${link.link.name} is down and backing off${link.status().lastError ? ` (${link.status().lastError})` : ''}` : opened.message;
        throw new WgError('WG_ERR_WRITE_UNCONFIRMED', { ...context, detail: `not sent, nothing was written: ${why}` });
      }
      if (link.demux) {
        response = await link.demux.exchange(frame, seq, device.timeoutMs, device.name);
      } else {
        await link.discardStale();
        await link.transport.write(frame);
        response = await readFrame({
          transport: link.transport, frameLength: (b) => protocol.frameLength(b), clock, device: device.name, maxFrameBytes,
          byteTimeMs: link.byteTimeMs, requestBytes: frame.byteLength,
        }, device.timeoutMs);
      }
      break;
    } catch (err) {
      if (isWgError(err) && err.code.startsWith('WG_ERR_HAL_')) {
        if (err.code === 'WG_ERR_HAL_TIMEOUT' && attempt < attempts) continue;
        if (err.code === 'WG_ERR_HAL_TIMEOUT' && !link.demux) await link.drain();
        const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
        throw new WgError('WG_ERR_WRITE_UNCONFIRMED', { ...context, detail: `no answer${tries}: ${err.message}` }, { cause: err });
      }
      throw err;
    } finally {
      grant.release(device.turnaroundMs);
    }
  }
  const rttMs = clock.monotonicMs() - sentAt;
  const verdict = await protocol.checkWrite(point.id, frame, response);
  if (!verdict.ok) {
    // A BACnet decoder answers a refusal with the PDU type that carried it (ABI 1.2 wg_write_check):
    // not a Modbus exception code, so it is said as what it is.
    const refusal = point.protocol === 'bacnet' && verdict.code === 'WG_ERR_DEVICE_EXCEPTION' ? BACNET_REFUSALS[verdict.exception ?? 0] : undefined;
    if (refusal) throw new WgError('WG_ERR_DEVICE_REFUSED', { ...context, detail: verdict.detail, refusal });
    throw new WgError(verdict.code as ErrorCode, { ...context, detail: verdict.detail, ...(verdict.exception !== undefined ? { exception: verdict.exception } : {}) });
  }
  return { device: device.name, point: point.name, value, rttMs };
}
