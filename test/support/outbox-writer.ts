/**
 * A process that writes into a SQLite outbox as fast as it can, for the kill -9 test
 * (test/integration/outbox-kill.test.ts): batches of messages whose payload names their seq, and now
 * and then an ack of the oldest batch. It tells on stdout what it did, with writes that reach the
 * pipe before the next call starts (writeSync to a pipe), so the test, which kills it at a random
 * moment, knows a lower bound of what was committed and an upper bound of what may have been acked:
 * - `acking <seq>` before it acks every pending seq up to and including <seq>;
 * - `appended <seq>` after an append returned, <seq> being the batch's last.
 * Usage: node outbox-writer.js <file> <batch size>
 */
import { writeSync } from 'node:fs';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';

export const UPLINK = 'cloud';
export const PAYLOAD_BYTES = 100;
/** Acks trail appends by this many seqs, so a backlog stays on disk across the kills. */
export const ACK_LAG = 2000;

/** The payload of message `seq`: its seq (u32 LE), then bytes that follow from it. */
export function payloadOf(seq: number): Uint8Array {
  const payload = new Uint8Array(PAYLOAD_BYTES);
  new DataView(payload.buffer).setUint32(0, seq, true);
  for (let i = 4; i < PAYLOAD_BYTES; i++) payload[i] = (seq * 31 + i) & 0xff;
  return payload;
}

export function topicOf(seq: number): string {
  return `plant/line-${seq % 7}/point`;
}

function main(file: string, batchSize: number): never {
  const store = new SqliteOutbox({ file, caps: { default: { maxBytes: 1 << 30, maxAgeMs: 86_400_000, maxDeadLetters: 10 } } });
  for (let batch = 0; ; batch++) {
    const first = store.lastSeq() + 1;
    const messages = Array.from({ length: batchSize }, (_, i) => ({
      uplink: UPLINK,
      topic: topicOf(first + i),
      payload: payloadOf(first + i),
      qos: 1 as const,
      retain: false,
      createdAtMs: Date.now(),
    }));
    const stored = store.append(messages);
    writeSync(1, `appended ${stored.at(-1)!.seq}\n`);
    if (batch % 4 === 3 && store.lastSeq() > ACK_LAG) {
      const through = store.lastSeq() - ACK_LAG;
      const seqs = store.pending(UPLINK, batchSize * 4).filter((m) => m.seq <= through).map((m) => m.seq);
      writeSync(1, `acking ${through}\n`);
      store.ack(UPLINK, seqs);
    }
  }
}

if (process.argv[1]?.endsWith('outbox-writer.js') && process.argv[2] !== undefined) main(process.argv[2], Number(process.argv[3] ?? 256));
