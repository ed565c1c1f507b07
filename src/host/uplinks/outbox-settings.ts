/**
 * The `outbox:` block every uplink kind takes: its share of the outbox (caps on disk and in memory),
 * how its backlog is replayed when the link returns, how each message carries its seq and replay flag,
 * and where the drop count is published. One schema fragment, one check, one resolution, used by every
 * kind's file (mqtt-uplink.ts, coap-uplink.ts), so that the kinds cannot drift apart.
 */
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { duration, size } from '../config/schema-fragments.js';
import { parseDuration, parseSize } from '../config/units.js';
import { known } from '../config/resolve-pipeline.js';
import { MARK_MODES, type MarkMode } from '../sinks/message-mark.js';
import type { ReplayPacing } from '../outbox/uplink-sender.js';
import { gatewayTopicFault, renderGatewayTopic } from './gateway-topic.js';
import type { SchemaDocument } from '../config/schema-document.js';

export interface ResolvedOutboxSettings {
  /** Bytes (topics and payloads) this uplink may hold pending on disk; the oldest go past it. */
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /** The same cap while the disk cannot be written and the outbox holds messages in memory. */
  readonly memoryMaxBytes: number;
  readonly replay: ReplayPacing;
  readonly mark: MarkMode;
  /** Topic of the drop report published when the link comes up, {gateway} and {uplink} filled in; null: none. */
  readonly reportTopic: string | null;
}

const HOURS_IN_A_WEEK = 168;

export const outboxSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: "this uplink's share of the outbox, its replay and how messages carry their seq",
  properties: {
    max_bytes: size('most bytes (topics and payloads) pending on disk for this uplink; past it the oldest are dropped, counted', '256MiB'),
    max_age: duration('oldest a pending message may be; older ones are dropped, counted', `${HOURS_IN_A_WEEK}h`),
    memory_max_bytes: size('most bytes held in memory while the disk cannot be written (full, read-only)', '16MiB'),
    replay: {
      enum: ['in_order', 'live_first'],
      default: 'in_order',
      description: 'in_order: the backlog first, oldest first, as fast as the link takes it; live_first: new messages at once, the backlog behind them at replay_rate',
    },
    replay_rate: { type: 'number', exclusiveMinimum: 0, default: 100, description: 'messages a second of the backlog with replay: live_first' },
    mark: {
      enum: [...MARK_MODES],
      default: 'auto',
      description: 'how each message carries its seq and replay flag: properties (MQTT 5 user properties), fields (members of a JSON object payload), auto (properties over MQTT 5, else fields), none',
    },
    report_topic: {
      type: ['string', 'boolean'],
      minLength: 1,
      default: 'wasmgate/{gateway}/outbox/{uplink}',
      description: 'where the drop count is published when the link comes up ({gateway}, {uplink}); false: not published',
    },
  },
} as const;

export type OutboxDocument = SchemaDocument<typeof outboxSchema>;

export function checkOutbox(doc: OutboxDocument, at: SettingPath, checks: SettingChecks): void {
  if (!checks.intact(at)) return; // `outbox: ~` or a list: the schema said so, and there is nothing to look into
  const maxBytes = checks.size([...at, 'max_bytes'], doc.max_bytes);
  const memoryMaxBytes = checks.size([...at, 'memory_max_bytes'], doc.memory_max_bytes);
  checks.duration([...at, 'max_age'], doc.max_age, true);
  if (maxBytes !== undefined && maxBytes < 1024) checks.invalid([...at, 'max_bytes'], `must be at least 1KiB, room for a message (got ${String(doc.max_bytes)})`);
  // The memory cap bounds the outbox while the disk is full: below a message's size it drops every one.
  if (memoryMaxBytes !== undefined && memoryMaxBytes < 1024) checks.invalid([...at, 'memory_max_bytes'], `must be at least 1KiB, room for a message (got ${String(doc.memory_max_bytes)})`);
  if (doc.report_topic === true) checks.invalid([...at, 'report_topic'], 'is a topic, or false for no report (true says neither)');
  if (typeof doc.report_topic === 'string') {
    const fault = gatewayTopicFault(doc.report_topic);
    if (fault !== undefined) checks.invalid([...at, 'report_topic'], fault);
  }
  if (doc.replay !== 'live_first' && checks.source.has([...at, 'replay_rate'])) {
    checks.conflict([...at, 'replay_rate'], [...at, 'replay'], 'replay_rate paces the backlog only with replay: live_first');
  }
}

export function resolveOutbox(doc: OutboxDocument, names: { gateway: string; uplink: string }): ResolvedOutboxSettings {
  return {
    maxBytes: known(parseSize(doc.max_bytes)),
    maxAgeMs: known(parseDuration(doc.max_age)),
    memoryMaxBytes: known(parseSize(doc.memory_max_bytes)),
    replay: doc.replay === 'live_first' ? { mode: 'live_first', ratePerS: doc.replay_rate } : { mode: 'in_order' },
    mark: doc.mark,
    reportTopic: typeof doc.report_topic === 'string'
      ? renderGatewayTopic(doc.report_topic, names)
      : null,
  };
}
