/**
 * The main thread's side of a pipeline's rule state: at the start, what the saved state has of the
 * rules (rule-state-map.ts) for the first worker to take, where the timeline goes on from, and the
 * withdrawal of each active alarm whose rule is gone or changed; while running, each state the
 * worker hands over, named and saved once the writes before it are settled (state-after-writes.ts).
 */
import type { Logger } from '../logger.js';
import type { RuleActions } from './rule-actions.js';
import type { RuleSet } from './rule-set.js';
import type { RuleStateFile } from './rule-state-file.js';
import { StateMapLayout, type StatePatch } from './rule-state-map.js';
import { anchorTimeline, type TimelineAnchor, type TimelineClock } from './rule-timeline.js';
import { StateAfterWrites } from './state-after-writes.js';

export interface RuleStateKeeperDeps {
  set: RuleSet;
  /** `device:name` of each point id. */
  pointKeys: readonly string[];
  /** None: the state is not kept (no data_dir). */
  file: RuleStateFile | undefined;
  actions: RuleActions;
  logger: Logger;
  clock: TimelineClock;
}

export class RuleStateKeeper {
  readonly anchor: TimelineAnchor;
  /** For the first worker: what it takes of the saved state; undefined: nothing saved to take. */
  readonly patches: StatePatch[] | undefined;
  readonly #deps: RuleStateKeeperDeps;
  readonly #layout: StateMapLayout;
  readonly #saver: StateAfterWrites | undefined;
  readonly #kept: number;
  #saveFailing = false;

  private constructor(deps: RuleStateKeeperDeps, layout: StateMapLayout, anchor: TimelineAnchor, patches: StatePatch[] | undefined, kept: number) {
    this.#deps = deps;
    this.#layout = layout;
    this.anchor = anchor;
    this.patches = patches;
    this.#kept = kept;
    const file = deps.file;
    this.#saver = file ? new StateAfterWrites(() => deps.actions.settled(), (state) => this.#save(file, state)) : undefined;
  }

  static async load(deps: RuleStateKeeperDeps): Promise<RuleStateKeeper> {
    const layout = new StateMapLayout(deps.set, deps.pointKeys);
    const saved = await deps.file?.read();
    if (!saved?.ok) {
      if (saved) deps.logger.info({ event: 'rule.state_fresh', reason: saved.reason }, `the rules start as nothing seen: ${saved.reason}`);
      return new RuleStateKeeper(deps, layout, anchorTimeline(deps.clock), undefined, 0);
    }
    const anchor = anchorTimeline(deps.clock, saved.timeline);
    const { patches, keptRules, activeRules } = layout.merge(saved.pieces, anchor.t);
    for (const alarm of layout.withdrawn(saved.pieces)) deps.actions.withdraw(alarm);
    deps.actions.restoredActive(activeRules);
    return new RuleStateKeeper(deps, layout, anchor, patches, keptRules.length);
  }

  /** The runner's onRuleState: a state to save, or at a worker's start whether it took the one it was given. */
  onState(state: Uint8Array | undefined, restored?: boolean): void {
    const { logger, set } = this.#deps;
    const file = this.#deps.file?.file;
    if (restored === true) {
      const fresh = set.rules.length - this.#kept;
      logger.info({ event: 'rule.state_restored', file, rules: set.rules.length, kept: this.#kept }, `the rules go on from their saved state (active alarms, for: timers, windows): ${this.#kept} of ${set.rules.length} rules${fresh > 0 ? `, ${fresh} new or changed start as nothing seen` : ''}`);
    } else if (restored === false) {
      logger.warn({ event: 'rule.state_fresh', reason: 'the compiled rules refused the saved state' }, 'the rules start as nothing seen: the compiled rules refused the saved state');
    }
    if (state) this.#saver?.offer(state);
  }

  /** Resolves once every state handed over so far is saved (or failed). */
  async settled(): Promise<void> {
    await this.#saver?.settled();
    await this.#deps.file?.settled();
  }

  #save(file: RuleStateFile, snapshot: Uint8Array): void {
    const { clock } = this.#deps;
    const timeline = { t: this.anchor.t + (clock.monotonicMs() - this.anchor.monotonicMs), wallMs: clock.wallMs() };
    const pieces = this.#layout.take(snapshot, this.#deps.actions.alarms());
    file.save({ pieces, timeline }).then(() => { this.#saveFailing = false; }, (err: Error) => {
      if (this.#saveFailing) return;
      this.#saveFailing = true;
      this.#deps.logger.error({ event: 'rule.state_save_failed', file: file.file, err }, `cannot save the rules' state to ${file.file}: ${err.message}; the rules run on, a restart would start them fresh`);
    });
  }
}
