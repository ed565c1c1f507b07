/**
 * A chunk: the messages of one uplink from one `append` batch, as one row of the durable outbox.
 * SQLite's cost is per row (about 7 µs a row on this machine's loaded core, which caps a row per
 * message near 130 k messages/s), so a batch of 256 messages is written as one row of a few KiB
 * instead of 256 rows, as Fluent Bit writes chunks. What leaves the outbox one by one (acked,
 * dropped, dead-lettered) is marked in a small bitmap of its own row, so the chunk is written once and
 * deleted when its last message is gone.
 *
 * A chunk covers the seqs `firstSeq..lastSeq`; a batch that mixes uplinks leaves seqs of other
 * uplinks in that span, so `members` has a bit per seq of the span, set for the seqs that are this
 * chunk's, and the records follow in seq order. `gone` has the same layout.
 *
 * Record layout (little-endian), one after another:
 *   f64 createdAtMs | u8 qos | u8 retain | u16 topic bytes | u32 payload bytes | topic (UTF-8) | payload
 */

const HEADER = 16;

export interface ChunkRecord {
  readonly seq: number;
  readonly createdAtMs: number;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly topic: string;
  readonly payload: Uint8Array;
  /** The message's size as the caps count it (topic + payload). */
  readonly bytes: number;
}

export interface EncodedChunk {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly members: Buffer;
  readonly records: Buffer;
  readonly minCreatedAtMs: number;
}

export interface ChunkInput {
  readonly seq: number;
  readonly createdAtMs: number;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly topic: string;
  readonly payload: Uint8Array;
}

/** Encodes messages in increasing seq order (one uplink's share of a batch). */
export function encodeChunk(messages: readonly ChunkInput[]): EncodedChunk {
  const firstSeq = messages[0]!.seq;
  const lastSeq = messages.at(-1)!.seq;
  const members = Buffer.alloc(bitmapBytes(firstSeq, lastSeq));
  let size = 0;
  const topics = messages.map((m) => Buffer.from(m.topic));
  for (let i = 0; i < messages.length; i++) size += HEADER + topics[i]!.length + messages[i]!.payload.byteLength;
  const records = Buffer.allocUnsafe(size);
  let at = 0;
  let minCreatedAtMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const topic = topics[i]!;
    setBit(members, m.seq - firstSeq);
    records.writeDoubleLE(m.createdAtMs, at);
    records[at + 8] = m.qos;
    records[at + 9] = m.retain ? 1 : 0;
    records.writeUInt16LE(topic.length, at + 10);
    records.writeUInt32LE(m.payload.byteLength, at + 12);
    topic.copy(records, at + HEADER);
    records.set(m.payload, at + HEADER + topic.length);
    at += HEADER + topic.length + m.payload.byteLength;
    minCreatedAtMs = Math.min(minCreatedAtMs, m.createdAtMs);
  }
  return { firstSeq, lastSeq, members, records, minCreatedAtMs };
}

/**
 * The chunk's records in seq order, those marked in `gone` and those up to `afterSeq` left out.
 * Payloads are copies (a caller may keep them after the row's buffer is reused). Records left out are
 * stepped over by their header alone: a sender that reads a few messages at a time from the middle of
 * a chunk would otherwise decode (and copy) the chunk's whole head on every read.
 */
export function* decodeChunk(firstSeq: number, members: Buffer, records: Buffer, gone: Buffer | undefined, afterSeq = 0): Generator<ChunkRecord> {
  let at = 0;
  for (let bit = 0; bit < members.length * 8 && at < records.length; bit++) {
    if (!hasBit(members, bit)) continue;
    const topicBytes = records.readUInt16LE(at + 10);
    const payloadBytes = records.readUInt32LE(at + 12);
    const next = at + HEADER + topicBytes + payloadBytes;
    if (firstSeq + bit > afterSeq && (gone === undefined || !hasBit(gone, bit))) {
      yield {
        seq: firstSeq + bit,
        createdAtMs: records.readDoubleLE(at),
        qos: records[at + 8] as 0 | 1,
        retain: records[at + 9] === 1,
        topic: records.toString('utf8', at + HEADER, at + HEADER + topicBytes),
        payload: new Uint8Array(records.subarray(at + HEADER + topicBytes, next)),
        bytes: topicBytes + payloadBytes,
      };
    }
    at = next;
  }
}

/** Each member's size as the caps count it (topic + payload), by its bit; -1 for a seq not in the chunk. */
export function recordSizes(members: Buffer, records: Buffer): number[] {
  const sizes: number[] = new Array<number>(members.length * 8).fill(-1);
  let at = 0;
  for (let bit = 0; bit < sizes.length && at < records.length; bit++) {
    if (!hasBit(members, bit)) continue;
    const bytes = records.readUInt16LE(at + 10) + records.readUInt32LE(at + 12);
    sizes[bit] = bytes;
    at += HEADER + bytes;
  }
  return sizes;
}

export function bitmapBytes(firstSeq: number, lastSeq: number): number {
  return Math.ceil((lastSeq - firstSeq + 1) / 8);
}

export function hasBit(bitmap: Buffer, bit: number): boolean {
  return (bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0;
}

export function setBit(bitmap: Buffer, bit: number): void {
  bitmap[bit >> 3] = bitmap[bit >> 3]! | (1 << (bit & 7));
}

/** Number of set bits. */
export function countBits(bitmap: Buffer): number {
  let count = 0;
  for (const byte of bitmap) {
    let b = byte;
    while (b !== 0) {
      b &= b - 1;
      count++;
    }
  }
  return count;
}
