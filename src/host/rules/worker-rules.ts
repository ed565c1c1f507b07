/**
 * The rules in the pipeline worker: the compiled module sees every sample batch the encoder gets (so
 * the values are in the units the pipeline publishes) and every tick, whether the uplink is up or
 * down, and what it makes waits here until the batch's output is committed; then the worker posts it
 * to the main thread, which acts (rule-actions.ts). A trap costs that batch's events and the rules'
 * state: the module starts again as nothing seen, said at a bounded rate.
 */
import type { CompiledPlugin } from '../engine/engine.js';
import { isWgError } from '../errors.js';
import type { RepeatLog } from '../pipeline/repeat-log.js';
import { CompiledRules, RULES_PLUGIN } from './compiled-rules.js';
import type { RuleEvent } from './rule-set.js';

export class WorkerRules {
  readonly #plugin: CompiledPlugin;
  readonly #pipeline: string;
  readonly #repeats: RepeatLog;
  #rules: CompiledRules;
  #pending: RuleEvent[] = [];
  /** The state changed in a way worth saving now (a rule fired or cleared). */
  #eventful = false;
  /** Batches or ticks on which the module trapped. */
  traps = 0;

  constructor(plugin: CompiledPlugin, pipeline: string, repeats: RepeatLog) {
    this.#plugin = plugin;
    this.#pipeline = pipeline;
    this.#repeats = repeats;
    this.#rules = new CompiledRules(plugin, { pipeline });
  }

  samples(batch: Uint8Array): void {
    this.#guarded(() => this.#rules.batch(batch));
  }

  tick(now: number): void {
    this.#guarded(() => this.#rules.tick(now));
  }

  /** What was made since the last call, in order. */
  take(): RuleEvent[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Takes a saved state (rule-state-file.ts); false when the module refuses it (another layout). */
  restore(state: Uint8Array): boolean {
    try {
      return this.#rules.restore(state);
    } catch (err) {
      if (!isWgError(err)) throw err;
      if (this.#rules.poisoned) this.#rules = new CompiledRules(this.#plugin, { pipeline: this.#pipeline });
      return false;
    }
  }

  /**
   * The state to save: after anything fired or cleared, or with `periodic` (every 10 s); undefined
   * when nothing asks for a save now or the module cannot give it.
   */
  stateToSave(periodic: boolean): Uint8Array | undefined {
    if (!this.#eventful && !periodic) return undefined;
    this.#eventful = false;
    try {
      return this.#rules.snapshot();
    } catch (err) {
      if (!isWgError(err)) throw err;
      return undefined;
    }
  }

  /** Forgets what the batch that is being dropped made: its output is not committed. */
  discard(): void {
    this.#pending = [];
  }

  #guarded(run: () => RuleEvent[]): void {
    try {
      const made = run();
      if (made.length > 0) {
        this.#pending.push(...made);
        this.#eventful = true;
      }
    } catch (err) {
      if (!isWgError(err)) throw err;
      this.traps++;
      this.#repeats.report('rules:trap', 50, `the rules failed on a batch, which they missed; they start again as nothing seen: ${err.message}`, { event: 'rule.eval_failed', code: err.code, pipeline: this.#pipeline, plugin: RULES_PLUGIN });
      if (this.#rules.poisoned) this.#rules = new CompiledRules(this.#plugin, { pipeline: this.#pipeline });
    }
  }
}
