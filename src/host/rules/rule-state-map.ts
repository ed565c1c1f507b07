/**
 * The rules' state as named pieces, so that it survives a change of the rule set: each rule's phase
 * and `for:` timer under its name and a fingerprint of what decides it (its conditions, clear,
 * hysteresis and `for:`), each point's latest value under `device:name`, each window and counted
 * condition under what it measures. A new rule set takes back every piece whose name it still has,
 * at the offsets of its own layout (rule-layout.ts); what it no longer has is dropped. So editing
 * one rule resets that rule alone, and an alarm whose rule was removed or changed is withdrawn
 * (rule-actions.ts) rather than left active forever.
 *
 * A rule's fingerprint covers what decides it and what it writes (ruleKey).
 *
 * The module's memory holds the pieces at fixed offsets; a snapshot (wg_snapshot) is that region.
 */
import { createHash } from 'node:crypto';
import type { Checked } from './expression.js';
import { layoutOf, RING_HEADER, RULE_STATE_BYTES, START } from './rule-layout.js';
import type { Rule, RuleSet } from './rule-set.js';
import { Phase } from './rule-state.js';

/** Bytes of the module's state to take from a snapshot or put into one. */
export interface StatePart {
  readonly offset: number;
  readonly length: number;
}

/** Bytes to put at `offset` of a freshly configured module's state. */
export interface StatePatch {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** What an active alarm needs to be withdrawn after its rule is gone: saved with the state. */
export interface AlarmOfRule {
  readonly rule: string;
  /** The alarm's topic as published, null when the rule published none. */
  readonly topic: string | null;
  readonly severity: string;
  readonly condition: string;
}

const RULE_PREFIX = 'rule ';
const ALARM_PREFIX = 'alarm ';

/** Where each named piece of a rule set's state lies. */
export class StateMapLayout {
  readonly #set: RuleSet;
  readonly #pointKeys: readonly string[];
  readonly #windowKeys: string[];
  readonly #counterKeys: string[];

  /** `pointKeys[id]`: `device:name` of each point of the pipeline. */
  constructor(set: RuleSet, pointKeys: readonly string[]) {
    this.#set = set;
    this.#pointKeys = pointKeys;
    this.#windowKeys = set.windows.map((w) => `rate ${this.#point(w.point)} ${w.ms} ${w.capacity}`);
    this.#counterKeys = set.counters.map((c) => `count ${this.#canon(c.condition)} ${c.ms} ${c.capacity}`);
  }

  /** Every named piece, with the parts of the state it is made of. */
  pieces(): Map<string, StatePart[]> {
    const layout = layoutOf(this.#set);
    const out = new Map<string, StatePart[]>();
    out.set('start', [{ offset: START, length: 8 }]);
    for (let p = 0; p < this.#set.pointCount; p++) {
      out.set(`point ${this.#point(p)}`, [{ offset: layout.value + 8 * p, length: 8 }, { offset: layout.lastGood + 8 * p, length: 8 }, { offset: layout.quality + p, length: 1 }]);
    }
    this.#set.windows.forEach((w, i) => out.set(this.#windowKeys[i]!, [{ offset: layout.windows[i]!, length: RING_HEADER + 16 * w.capacity }]));
    this.#set.counters.forEach((c, i) => out.set(this.#counterKeys[i]!, [{ offset: layout.counters[i]!, length: RING_HEADER + 16 * c.capacity }]));
    this.#set.rules.forEach((r, i) => out.set(this.ruleKey(r), [{ offset: layout.rules[i]!, length: RULE_STATE_BYTES }]));
    return out;
  }

  /**
   * `rule <name> <fingerprint>`: a rule whose conditions, timing or writes changed is another rule.
   * The writes count because an active alarm kept across a change of its write would have its
   * clear write back to a point (or a value) its fire never wrote; its severity, message, log,
   * interlocks, rate limit and dry run may change and keep it.
   */
  ruleKey(rule: Rule): string {
    const writes = rule.actions.writes.map((w) => [this.#point(w.point), w.value, w.onClear]);
    const decides = JSON.stringify([this.#canon(rule.when), rule.clear && this.#canon(rule.clear), rule.relaxed && this.#canon(rule.relaxed), rule.forMs, writes]);
    return `${RULE_PREFIX}${rule.name} ${createHash('sha256').update(decides).digest('hex').slice(0, 16)}`;
  }

  /** The named pieces of a snapshot, and what each rule's alarm needs to be withdrawn later. */
  take(snapshot: Uint8Array, alarms: readonly AlarmOfRule[]): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [key, parts] of this.pieces()) {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        if (part.offset + part.length > snapshot.byteLength) return new Map();
        bytes.set(snapshot.subarray(part.offset, part.offset + part.length), at);
        at += part.length;
      }
      out.set(key, bytes);
    }
    for (const alarm of alarms) out.set(`${ALARM_PREFIX}${alarm.rule}`, Buffer.from(JSON.stringify(alarm)));
    return out;
  }

  /**
   * What of `saved` this rule set takes back, as patches of its fresh state; and which rules it
   * keeps. A point the saved state does not know (added since) gets `now` (the timeline's time at
   * the start) as its last good time: its stale() counts from when it was added, not from the first
   * time the rule set ever saw, which may be long before the point existed.
   */
  merge(saved: ReadonlyMap<string, Uint8Array>, now?: number): { patches: StatePatch[]; keptRules: number[]; activeRules: number[] } {
    const patches: StatePatch[] = [];
    for (const [key, parts] of this.pieces()) {
      const bytes = saved.get(key);
      if (!bytes && now !== undefined && key.startsWith('point ')) {
        const lastGood = new Uint8Array(8);
        new DataView(lastGood.buffer).setFloat64(0, now, true);
        patches.push({ offset: parts[1]!.offset, bytes: lastGood });
        continue;
      }
      if (!bytes || bytes.byteLength !== parts.reduce((n, p) => n + p.length, 0)) continue;
      let at = 0;
      for (const part of parts) {
        patches.push({ offset: part.offset, bytes: bytes.slice(at, at + part.length) });
        at += part.length;
      }
    }
    const keptRules = this.#set.rules.filter((r) => saved.has(this.ruleKey(r))).map((r) => r.index);
    const activeRules = keptRules.filter((r) => isActive(saved.get(this.ruleKey(this.#set.rules[r]!))!));
    return { patches, keptRules, activeRules };
  }

  /** Saved alarms that were active and whose rule this set no longer has, unchanged. */
  withdrawn(saved: ReadonlyMap<string, Uint8Array>): AlarmOfRule[] {
    const kept = new Set(this.#set.rules.map((r) => this.ruleKey(r)));
    const out: AlarmOfRule[] = [];
    for (const [key, bytes] of saved) {
      if (!key.startsWith(RULE_PREFIX) || kept.has(key) || !isActive(bytes)) continue;
      const name = key.slice(RULE_PREFIX.length, key.lastIndexOf(' '));
      const alarm = saved.get(`${ALARM_PREFIX}${name}`);
      out.push(alarm ? (JSON.parse(Buffer.from(alarm).toString()) as AlarmOfRule) : { rule: name, topic: null, severity: 'warning', condition: '' });
    }
    return out;
  }

  /** Whether rule `index` is active in `snapshot`. */
  activeIn(snapshot: Uint8Array, index: number): boolean {
    const offset = layoutOf(this.#set).rules[index];
    return offset !== undefined && offset + 4 <= snapshot.byteLength && isActive(snapshot.subarray(offset, offset + 4));
  }

  #point(id: number): string {
    return this.#pointKeys[id] ?? `#${id}`;
  }

  /** A checked expression with points, windows and counters by what they are, not by index. */
  #canon(expr: Checked): string {
    return JSON.stringify(expr, (key, value: unknown) => {
      if (key === 'point' && typeof value === 'number') return this.#point(value);
      if (key === 'window' && typeof value === 'number') return this.#windowKeys[value] ?? value;
      if (key === 'counter' && typeof value === 'number') return this.#counterKeys[value] ?? value;
      return value;
    });
  }
}

/** A rule's state bytes: phase u32 first (rule-layout.ts). */
function isActive(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === Phase.ACTIVE;
}
