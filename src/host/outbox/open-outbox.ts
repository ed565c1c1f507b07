/**
 * Opens the gateway's outbox: the SQLite store in the data directory, falling back to memory within a
 * bound when the disk is full or read-only (fallback-outbox.ts), written behind by the commit delay
 * (deferred-outbox.ts), with one sender per uplink.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedGateway } from '../config/resolved.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import { FallbackOutbox } from './fallback-outbox.js';
import { GatewayOutbox } from './gateway-outbox.js';
import { capsOf, messageBytes, type OutboxCaps, type OutboxCapsTable } from './outbox-store.js';
import { DeferredOutbox } from './deferred-outbox.js';
import { readReservedSeq } from './seq-reservation.js';
import { SqliteOutbox } from './sqlite-outbox.js';

/** Dead letters kept for listing per uplink, on disk and in memory; the rest stay counted. */
const DEAD_LETTERS_KEPT = { disk: 1_000, memory: 100 };

/** Each uplink's caps from its `outbox:` settings (config.md), on disk and in memory. */
function capsTables(config: ResolvedGateway): { disk: OutboxCapsTable; memory: OutboxCapsTable } {
  const disk: Record<string, OutboxCaps> = {};
  const memory: Record<string, OutboxCaps> = {};
  for (const { name, outbox } of config.uplinks) {
    disk[name] = { maxBytes: outbox.maxBytes, maxAgeMs: outbox.maxAgeMs, maxDeadLetters: DEAD_LETTERS_KEPT.disk };
    memory[name] = { maxBytes: outbox.memoryMaxBytes, maxAgeMs: outbox.maxAgeMs, maxDeadLetters: DEAD_LETTERS_KEPT.memory };
  }
  // An uplink no longer configured may still have messages on disk: the store serves nobody those,
  // but its caps still need a value.
  const fallback = { maxBytes: 256 * 1024 * 1024, maxAgeMs: 7 * 24 * 3600_000 };
  return {
    disk: { default: { ...fallback, maxDeadLetters: DEAD_LETTERS_KEPT.disk }, uplinks: disk },
    memory: { default: { ...fallback, maxBytes: 16 * 1024 * 1024, maxDeadLetters: DEAD_LETTERS_KEPT.memory }, uplinks: memory },
  };
}

export async function openGatewayOutbox(config: ResolvedGateway, sinks: ReadonlyMap<string, Sink>, logger: Logger): Promise<GatewayOutbox> {
  const log = logger.child({ component: 'outbox' });
  const file = join(config.dataDir, 'outbox.db');
  await mkdir(config.dataDir, { recursive: true }).catch(() => undefined); // a directory it cannot make is the store's to report
  const onProblem = (problem: { code: string; message: string; context: unknown }): void => log.warn({ event: 'outbox.problem', code: problem.code }, problem.message);
  const caps = capsTables(config);
  const store = new FallbackOutbox({
    openDurable: () => new SqliteOutbox({ file, caps: caps.disk, onProblem }),
    reservedSeq: () => readReservedSeq(file),
    memoryCaps: caps.memory,
    onProblem,
  });
  const uplinks = new Map(config.uplinks.map((u) => [u.name, { replay: u.outbox.replay, reportTopic: u.outbox.reportTopic }]));
  const front = config.outboxCommitDelayMs > 0
    ? new DeferredOutbox({ store, delayMs: config.outboxCommitDelayMs, keeps: (m) => messageBytes(m.topic, m.payload) <= capsOf(caps.disk, m.uplink).maxBytes })
    : store;
  return new GatewayOutbox({ store: front, sinks, logger: log, gatewayId: config.id, uplinks });
}
