/**
 * Host-side reader of message batches (docs/plugin-abi.md, "Message batch"): what an encoder returns.
 */
import { MESSAGE_HEADER, NO_POINT, pad4 } from './abi.js';
import { WgError, type ErrorContext } from '../errors.js';

export interface Message {
  /** Point id, or undefined for a message about many points. */
  point: number | undefined;
  /** View into the batch; copy it if it must outlive the batch. */
  payload: Uint8Array;
}

export function* readMessages(batch: Uint8Array, context: ErrorContext = {}): Generator<Message> {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let at = 0;
  while (at + MESSAGE_HEADER <= batch.byteLength) {
    const len = view.getUint32(at, true);
    const point = view.getUint32(at + 4, true);
    if (at + MESSAGE_HEADER + len > batch.byteLength) {
      throw new WgError('WG_ERR_PLUGIN_STATUS', { ...context, detail: `message batch overruns its length at byte ${at}` });
    }
    yield { point: point === NO_POINT ? undefined : point, payload: batch.subarray(at + MESSAGE_HEADER, at + MESSAGE_HEADER + len) };
    at += pad4(MESSAGE_HEADER + len);
  }
}
