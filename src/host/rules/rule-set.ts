/**
 * A pipeline's rules as the evaluators take them: checked, every point a point id, every default
 * applied, plain data (it goes to the pipeline worker by structured clone, and is frozen with the
 * rest of the resolved configuration). Built by rule-checks.ts; see docs/rules.md.
 */
import type { Checked } from './expression.js';
import type { LOG_LEVELS, SEVERITIES } from './rule-schema.js';

export type Severity = (typeof SEVERITIES)[number];
export type RuleLogLevel = (typeof LOG_LEVELS)[number];

/** A rate(point, window) of the rule set: the point's usable samples of the last `ms`. */
export interface RateWindow {
  readonly point: number;
  readonly ms: number;
  /** Samples kept: enough for the window at the point's poll interval; the oldest go first past it. */
  readonly capacity: number;
}

/** A count(condition, window): the times `condition` became true in the last `ms`. */
export interface EventCounter {
  readonly condition: Checked;
  readonly ms: number;
  /** Rises kept; the count saturates here (docs/rules.md). */
  readonly capacity: number;
  /** The points the condition reads: it is evaluated on each of their samples, and on every tick. */
  readonly points: readonly number[];
}

export interface RuleWrite {
  /** Point id, and the names for logs and the audit. */
  readonly point: number;
  readonly pointName: string;
  readonly device: number;
  readonly deviceName: string;
  readonly value: number;
  /**
   * Written when the rule clears: a value, 'relinquish' (a BACnet point's Null at its priority; a word,
   * not NaN, so that the pipeline's fingerprint, taken over its JSON, tells it from null) or null for nothing.
   */
  readonly onClear: number | 'relinquish' | null;
  /** Index into the rule's `interlocks`; null: none. */
  readonly interlock: number | null;
}

export interface RuleActions {
  /** The alarm's topic template; null: no alarm messages. */
  readonly alarmTopic: string | null;
  readonly log: RuleLogLevel;
  readonly writes: readonly RuleWrite[];
  readonly rateLimit: { readonly writes: number; readonly perMs: number };
  readonly dryRun: boolean;
}

export interface Rule {
  readonly index: number;
  readonly name: string;
  /** Where it is written, for logs: `file:line`. */
  readonly origin: string;
  /** The condition as written. */
  readonly text: string;
  readonly when: Checked;
  /** While active: the condition that clears it (`clear:`), or null. */
  readonly clear: Checked | null;
  /** While active with hysteresis: `when` with every threshold moved back; it clears when this no longer holds. */
  readonly relaxed: Checked | null;
  readonly forMs: number;
  readonly severity: Severity;
  readonly message: string;
  /** Every point the rule reads (its conditions, interlocks, windows and counters): it is evaluated on each of their samples. */
  readonly points: readonly number[];
  /** The conditions of its writes' interlocks, evaluated when the rule fires or clears. */
  readonly interlocks: readonly Checked[];
  readonly actions: RuleActions;
}

export interface RuleSet {
  readonly rules: readonly Rule[];
  readonly windows: readonly RateWindow[];
  readonly counters: readonly EventCounter[];
  /** Points of the pipeline (the ids run from 0 to this). */
  readonly pointCount: number;
}

export const EMPTY_RULE_SET: RuleSet = { rules: [], windows: [], counters: [], pointCount: 0 };

/** What a rule did, as both evaluators report it. */
export interface RuleEvent {
  readonly rule: number;
  readonly kind: 'fire' | 'clear';
  /** The time of the sample or tick that made it, ms since the epoch. */
  readonly ts: number;
  /** Bit i set: interlock i holds now. */
  readonly interlocks: number;
}
