/**
 * What a pipeline's rules do when they fire and clear, on the main thread (docs/rules.md, Actions):
 * an alarm message into the outbox (so it reaches the cloud after an outage, in order, with the time
 * it happened), a log line, and guarded writes to the devices. A write goes out only when its
 * interlock held at the time of the event, the rule's rate limit has room and the rule is not a dry
 * run; every attempt, sent or not, is audited in the data directory and published on the uplink.
 * Writes of one rule go one after another, so a clear's write-back never overtakes the fire's write.
 */
import type { ResolvedPipeline } from '../config/resolved.js';
import type { Logger } from '../logger.js';
import { logAt } from '../logger.js';
import type { WriteResult } from '../poll/point-write.js';
import type { RuleAudit } from './rule-audit.js';
import type { Rule, RuleEvent, RuleWrite } from './rule-set.js';
import type { AlarmOfRule } from './rule-state-map.js';

/** Where the write audit is published; `{rule}` is the rule's name. */
export const WRITE_AUDIT_TOPIC = 'wasmgate/{gateway}/{pipeline}/writes/{rule}';

export type WriteOutcome = 'written' | 'failed' | 'interlocked' | 'rate-limited' | 'dry-run';

export interface RuleStatus {
  name: string;
  active: boolean;
  fired: number;
  cleared: number;
  writes: Record<WriteOutcome, number>;
}

export interface RuleActionsDeps {
  pipeline: ResolvedPipeline;
  gatewayId: string;
  /** Hands a message to the uplink's outbox (QoS 1: an alarm must arrive). */
  publish(topic: string, payload: Uint8Array): void;
  write(device: string, point: string, value: number): Promise<WriteResult>;
  logger: Logger;
  audit?: RuleAudit;
  /** Monotonic ms, for the rate limit. */
  monotonicMs(): number;
}

interface RuleRuntime {
  status: RuleStatus;
  /** When writes of the rule went out (or would have, dry), monotonic ms. */
  recent: number[];
  /** The rule's writes, one after the other. */
  queue: Promise<void>;
  /**
   * Its writes (by index) that the last fire sent (or tried to, or dry): the clear's write-back of
   * each undoes it and is never held by the rate limit (docs/rules.md, Actions): a stop whose
   * write-back the limit refused would leave the machine stopped after the cause is gone.
   */
  owed: Set<number>;
}

export class RuleActions {
  readonly #deps: RuleActionsDeps;
  readonly #rules: RuleRuntime[];

  constructor(deps: RuleActionsDeps) {
    this.#deps = deps;
    this.#rules = deps.pipeline.rules.rules.map((r) => ({
      status: { name: r.name, active: false, fired: 0, cleared: 0, writes: { written: 0, failed: 0, interlocked: 0, 'rate-limited': 0, 'dry-run': 0 } },
      recent: [],
      queue: Promise.resolve(),
      owed: new Set(),
    }));
  }

  /** The events of one committed batch or tick, in order. */
  handle(events: readonly RuleEvent[]): void {
    for (const event of events) {
      const rule = this.#deps.pipeline.rules.rules[event.rule];
      const runtime = this.#rules[event.rule];
      if (!rule || !runtime) continue;
      const firing = event.kind === 'fire';
      runtime.status.active = firing;
      if (firing) runtime.status.fired++;
      else runtime.status.cleared++;
      this.#log(rule, event);
      if (rule.actions.alarmTopic !== null) this.#alarm(rule, event);
      rule.actions.writes.forEach((write, index) => {
        const back = firing ? write.value : write.onClear;
        if (back === null) return;
        // A relinquish is NaN on the write path (ABI 1.2 wg_write: the protocol's null).
        const value = back === 'relinquish' ? NaN : back;
        runtime.queue = runtime.queue.then(() => this.#write(rule, runtime, index, value, event));
      });
    }
  }

  /** Resolves once every write asked so far has been done or refused. */
  async settled(): Promise<void> {
    await Promise.all(this.#rules.map((r) => r.queue));
  }

  /**
   * Rules whose alarm was active in the state the rules went on from (rule-state-map.ts). Their
   * fire's writes are taken as sent (the state was saved only once they were settled, and what
   * they did is not known here): the clear's write-back undoes them past the rate limit.
   */
  restoredActive(rules: readonly number[]): void {
    for (const r of rules) {
      const runtime = this.#rules[r];
      if (!runtime) continue;
      runtime.status.active = true;
      this.#deps.pipeline.rules.rules[r]?.actions.writes.forEach((_, index) => runtime.owed.add(index));
    }
  }

  /** What each rule's alarm needs to be withdrawn by a later rule set, saved with the state. */
  alarms(): AlarmOfRule[] {
    return this.#deps.pipeline.rules.rules.map((r) => ({ rule: r.name, topic: r.actions.alarmTopic === null ? null : this.#topic(r.actions.alarmTopic, r), severity: r.severity, condition: r.text }));
  }

  /**
   * An alarm active in the saved state whose rule the rule set no longer has as it was (removed, or
   * its conditions or timing changed): cleared, marked withdrawn, now. No write-back: the rule that
   * would write it is not the one that wrote, and a configuration change must not move the plant.
   */
  withdraw(alarm: AlarmOfRule): void {
    const ts = new Date().toISOString();
    this.#deps.logger.warn({ event: 'rule.alarm_withdrawn', pipeline: this.#deps.pipeline.name, rule: alarm.rule, severity: alarm.severity, ts }, `rule ${alarm.rule} was active and is no longer in the rule set as it was (removed or changed): its alarm is withdrawn`);
    if (alarm.topic === null) return;
    const message = { rule: alarm.rule, state: 'cleared', withdrawn: true, severity: alarm.severity, ts, gateway: this.#deps.gatewayId, pipeline: this.#deps.pipeline.name, condition: alarm.condition };
    this.#deps.publish(alarm.topic, Buffer.from(JSON.stringify(message)));
  }

  status(): RuleStatus[] {
    return this.#rules.map((r) => ({ ...r.status, writes: { ...r.status.writes } }));
  }

  #log(rule: Rule, event: RuleEvent): void {
    const context = { pipeline: this.#deps.pipeline.name, rule: rule.name, severity: rule.severity, ts: new Date(event.ts).toISOString() };
    const text = rule.message === '' ? rule.text : rule.message;
    if (event.kind === 'fire') {
      if (rule.actions.log === 'off') return;
      logAt(this.#deps.logger, { error: 50, warn: 40, info: 30 }[rule.actions.log], `rule ${rule.name} fired: ${text}`, { event: 'rule.fired', ...context });
    } else if (rule.actions.log !== 'off') {
      this.#deps.logger.info({ event: 'rule.cleared', ...context }, `rule ${rule.name} cleared`);
    }
  }

  #topic(template: string, rule: Rule): string {
    return template.replaceAll('{gateway}', this.#deps.gatewayId).replaceAll('{pipeline}', this.#deps.pipeline.name).replaceAll('{rule}', rule.name);
  }

  #alarm(rule: Rule, event: RuleEvent): void {
    const alarm = {
      rule: rule.name,
      state: event.kind === 'fire' ? 'active' : 'cleared',
      severity: rule.severity,
      ts: new Date(event.ts).toISOString(),
      gateway: this.#deps.gatewayId,
      pipeline: this.#deps.pipeline.name,
      condition: rule.text,
      ...(rule.message === '' ? {} : { message: rule.message }),
    };
    this.#deps.publish(this.#topic(rule.actions.alarmTopic!, rule), Buffer.from(JSON.stringify(alarm)));
  }

  async #write(rule: Rule, runtime: RuleRuntime, index: number, value: number, event: RuleEvent): Promise<void> {
    const { actions } = rule;
    const write: RuleWrite = actions.writes[index]!;
    const undoing = event.kind === 'clear' && runtime.owed.delete(index);
    // A clear writes back only what its fire sent. Its fire's write did not go out (interlocked, rate
    // limited): a relinquish would empty a BACnet priority slot somebody else holds, an on_clear value
    // would change what the gateway never changed. Not an attempt, so not audited nor counted.
    if (event.kind === 'clear' && !undoing) return;
    let outcome: WriteOutcome;
    let extra: Record<string, unknown> = {};
    const now = this.#deps.monotonicMs();
    runtime.recent = runtime.recent.filter((t) => now - t < actions.rateLimit.perMs);
    if (write.interlock !== null && (event.interlocks & (1 << write.interlock)) === 0) {
      outcome = 'interlocked';
    } else if (!undoing && runtime.recent.length >= actions.rateLimit.writes) {
      outcome = 'rate-limited';
      extra = { limit: `${actions.rateLimit.writes} per ${actions.rateLimit.perMs} ms` };
    } else {
      runtime.recent.push(now);
      if (actions.dryRun) outcome = 'dry-run';
      else {
        try {
          const done = await this.#deps.write(write.deviceName, write.pointName, value);
          outcome = 'written';
          extra = { rttMs: Math.round(done.rttMs * 1000) / 1000 };
        } catch (err) {
          outcome = 'failed';
          const e = err as { code?: string; message: string };
          extra = { code: e.code ?? 'WG_ERR_WRITE_UNCONFIRMED', detail: e.message };
        }
      }
    }
    runtime.status.writes[outcome]++;
    if (event.kind === 'fire' && (outcome === 'written' || outcome === 'failed' || outcome === 'dry-run')) runtime.owed.add(index);
    // NaN is a relinquish (a BACnet point's Null at its priority): JSON says it as relinquish, value null.
    const relinquish = Number.isNaN(value);
    const record = {
      ts: new Date(event.ts).toISOString(),
      at: new Date().toISOString(),
      gateway: this.#deps.gatewayId,
      pipeline: this.#deps.pipeline.name,
      rule: rule.name,
      trigger: event.kind,
      device: write.deviceName,
      point: write.pointName,
      value: relinquish ? null : value,
      ...(relinquish ? { relinquish: true } : {}),
      outcome,
      ...extra,
    };
    const level = outcome === 'failed' ? 50 : outcome === 'written' || outcome === 'dry-run' ? 30 : 40;
    const words = {
      written: 'written and confirmed', failed: `failed: ${String(extra.detail)}`, interlocked: 'not sent: its interlock did not hold',
      'rate-limited': `not sent: the rule's rate limit (${String(extra.limit)}) is reached`, 'dry-run': 'not sent: dry run',
    }[outcome];
    const what = relinquish ? `relinquish ${write.deviceName} ${write.pointName}` : `write ${value} to ${write.deviceName} ${write.pointName}`;
    logAt(this.#deps.logger, level, `rule ${rule.name} ${event.kind === 'fire' ? 'fired' : 'cleared'}: ${what} ${words}`, {
      event: 'rule.write', pipeline: this.#deps.pipeline.name, rule: rule.name, device: write.deviceName, point: write.pointName, ...(relinquish ? { relinquish: true } : { value }), outcome, ...(extra.code ? { code: extra.code } : {}),
    });
    this.#deps.publish(this.#topic(WRITE_AUDIT_TOPIC, rule), Buffer.from(JSON.stringify(record)));
    await this.#deps.audit?.append(record);
  }
}
