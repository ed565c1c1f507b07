/**
 * Opens the gateway's outbox: the SQLite store in the data directory, falling back to memory within a
 * bound when the disk is full or read-only (fallback-outbox.ts), with one sender per uplink.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedGateway } from '../config/resolved.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import { FallbackOutbox } from './fallback-outbox.js';
import { GatewayOutbox } from './gateway-outbox.js';
import type { OutboxCapsTable } from './outbox-store.js';
import { readReservedSeq } from './seq-reservation.js';
import { SqliteOutbox } from './sqlite-outbox.js';

/** Per uplink on disk: a day of 1 000 points/s of small JSON is about 10 GB; keep the last few hours' worth. */
const DISK_CAPS: OutboxCapsTable = { default: { maxBytes: 256 * 1024 * 1024, maxAgeMs: 7 * 24 * 3600_000, maxDeadLetters: 1_000 } };
/** Per uplink in memory, while the disk cannot be written. */
const MEMORY_CAPS: OutboxCapsTable = { default: { maxBytes: 16 * 1024 * 1024, maxAgeMs: 7 * 24 * 3600_000, maxDeadLetters: 100 } };

export async function openGatewayOutbox(config: ResolvedGateway, sinks: ReadonlyMap<string, Sink>, logger: Logger): Promise<GatewayOutbox> {
  const log = logger.child({ component: 'outbox' });
  const file = join(config.dataDir, 'outbox.db');
  await mkdir(config.dataDir, { recursive: true }).catch(() => undefined); // a directory it cannot make is the store's to report
  const onProblem = (problem: { code: string; message: string; context: unknown }): void => log.warn({ code: problem.code }, problem.message);
  const store = new FallbackOutbox({
    openDurable: () => new SqliteOutbox({ file, caps: DISK_CAPS, onProblem }),
    reservedSeq: () => readReservedSeq(file),
    memoryCaps: MEMORY_CAPS,
    onProblem,
  });
  return new GatewayOutbox({ store, sinks, logger: log });
}
