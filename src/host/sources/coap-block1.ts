/**
 * Block-wise request bodies (RFC 7959, Block1) as a server takes them, bounded: at most `maxTransfers`
 * at once, each at most `maxBody` bytes and kept `timeoutMs` after its last block. A block is taken
 * only when it continues its transfer where the last one ended (NUM × size = bytes so far), so a
 * Block1 option with a huge NUM (an "offset bomb": node-coap 1.5's server allocates NUM × size bytes
 * for it) costs nothing here: it is out of order, answered 4.08 and forgotten.
 */
export interface Block1 {
  readonly num: number;
  readonly more: boolean;
  /** SZX: the block size is 2^(SZX + 4). */
  readonly szx: number;
}

/** The Block1 option's value (RFC 7959, 2.2): NUM, M, SZX in a 0- to 3-byte unsigned integer; undefined for SZX 7 (reserved) or a longer value. */
export function parseBlock1(value: Uint8Array): Block1 | undefined {
  if (value.byteLength > 3) return undefined;
  let v = 0;
  for (const b of value) v = (v << 8) | b;
  const szx = v & 7;
  if (szx === 7) return undefined;
  return { num: v >>> 4, more: (v & 8) !== 0, szx };
}

export function block1Value(block: Block1): Uint8Array {
  const v = (block.num << 4) | (block.more ? 8 : 0) | block.szx;
  if (v < 0x100) return Uint8Array.of(v);
  if (v < 0x10000) return Uint8Array.of(v >> 8, v & 0xff);
  return Uint8Array.of(v >> 16, (v >> 8) & 0xff, v & 0xff);
}

export type Block1Outcome =
  | { readonly kind: 'continue' }
  | { readonly kind: 'complete'; readonly body: Uint8Array }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'busy' };

interface Transfer {
  chunks: Uint8Array[];
  received: number;
  until: number;
}

export class Block1Transfers {
  readonly #maxTransfers: number;
  readonly #maxBody: number;
  readonly #timeoutMs: number;
  readonly #transfers = new Map<string, Transfer>();

  constructor(maxTransfers: number, maxBody: number, timeoutMs: number) {
    this.#maxTransfers = maxTransfers;
    this.#maxBody = maxBody;
    this.#timeoutMs = timeoutMs;
  }

  /** One block of the transfer `key` (the sender and the resource: RFC 7959 2.5 matches blocks by endpoint and target). */
  take(key: string, block: Block1, payload: Uint8Array, now: number): Block1Outcome {
    this.expire(now);
    const size = 16 << block.szx;
    if (block.num === 0) {
      this.#transfers.delete(key);
      if (payload.byteLength > this.#maxBody) return { kind: 'too_large' };
      if (!block.more) return { kind: 'complete', body: payload };
      if (payload.byteLength !== size) return { kind: 'incomplete' };
      if (this.#transfers.size >= this.#maxTransfers) return { kind: 'busy' };
      this.#transfers.set(key, { chunks: [payload.slice()], received: payload.byteLength, until: now + this.#timeoutMs });
      return { kind: 'continue' };
    }
    const transfer = this.#transfers.get(key);
    if (transfer === undefined || block.num * size !== transfer.received || (block.more && payload.byteLength !== size)) {
      this.#transfers.delete(key);
      return { kind: 'incomplete' };
    }
    if (transfer.received + payload.byteLength > this.#maxBody) {
      this.#transfers.delete(key);
      return { kind: 'too_large' };
    }
    transfer.chunks.push(payload.slice());
    transfer.received += payload.byteLength;
    transfer.until = now + this.#timeoutMs;
    if (block.more) return { kind: 'continue' };
    this.#transfers.delete(key);
    const body = new Uint8Array(transfer.received);
    let at = 0;
    for (const chunk of transfer.chunks) {
      body.set(chunk, at);
      at += chunk.byteLength;
    }
    return { kind: 'complete', body };
  }

  expire(now: number): void {
    for (const [key, transfer] of this.#transfers) if (transfer.until <= now) this.#transfers.delete(key);
  }

  get size(): number {
    return this.#transfers.size;
  }
}
