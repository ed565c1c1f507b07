/**
 * The rules in the pipeline worker: the compiled module sees every sample batch the encoder gets (so
 * the values are in the units the pipeline publishes) and every tick, whether the uplink is up or
 * down, and what it makes waits here until the batch's output is committed; then the worker posts it
 * to the main thread, which acts (rule-actions.ts). A trap costs that batch's events and the rules'
 * state: the module starts again as nothing seen, said at a bounded rate. The module runs on the rules'
 * timeline (rule-timeline.ts): each batch's sample times are put on it, and what the module makes
 * is stamped back on the wall clock.
 */
import { endianness } from 'node:os';
import type { CompiledPlugin } from '../engine/engine.js';
import { isWgError } from '../errors.js';
import type { RepeatLog } from '../pipeline/repeat-log.js';
import { CompiledRules, RULES_PLUGIN } from './compiled-rules.js';
import type { RuleEvent } from './rule-set.js';
import type { StatePatch } from './rule-state-map.js';
import { RuleTimeline, type TimelineAnchor, type TimelineClock } from './rule-timeline.js';

/** Where the sample time lies in a sample record, and the record's size (docs/plugin-abi.md). */
const SAMPLES_HEADER = 8;
const SAMPLE_BYTES = 24;
/** The ABI is little-endian; a Float64Array reads it as such only on a little-endian machine. */
const LITTLE_ENDIAN = endianness() === 'LE';

export interface WorkerRulesOptions {
  /** The pipeline's timeline (the same for every worker it starts). */
  anchor: TimelineAnchor;
  clock: TimelineClock;
}

export class WorkerRules {
  readonly #plugin: CompiledPlugin;
  readonly #pipeline: string;
  readonly #repeats: RepeatLog;
  readonly #timeline: RuleTimeline;
  #rules: CompiledRules;
  #pending: RuleEvent[] = [];
  /** The state changed in a way worth saving now (a rule fired or cleared). */
  #eventful = false;
  /** Batches or ticks on which the module trapped. */
  traps = 0;

  constructor(plugin: CompiledPlugin, pipeline: string, repeats: RepeatLog, options: WorkerRulesOptions) {
    this.#timeline = new RuleTimeline(options.anchor, options.clock);
    this.#plugin = plugin;
    this.#pipeline = pipeline;
    this.#repeats = repeats;
    this.#rules = new CompiledRules(plugin, { pipeline });
  }

  /** A sample batch the encoder gets (not changed: the rules see a copy with timeline times). */
  samples(batch: Uint8Array): void {
    this.#timeline.advance();
    // A copy of its own (offset 0, so 8-aligned): the sample times are f64 at 8 + 24 i, every third f64.
    const onTimeline = batch.slice();
    if (onTimeline.byteLength >= SAMPLES_HEADER) {
      const count = Math.min(new DataView(onTimeline.buffer).getUint32(0, true), Math.floor((onTimeline.byteLength - SAMPLES_HEADER) / SAMPLE_BYTES));
      if (LITTLE_ENDIAN) {
        this.#timeline.fromWallEach(new Float64Array(onTimeline.buffer, 0, onTimeline.byteLength >>> 3), SAMPLES_HEADER / 8, SAMPLE_BYTES / 8, count);
      } else {
        const view = new DataView(onTimeline.buffer);
        for (let i = 0, at = SAMPLES_HEADER; i < count; i++, at += SAMPLE_BYTES) view.setFloat64(at, this.#timeline.fromWall(view.getFloat64(at, true)), true);
      }
    }
    this.#guarded(() => this.#rules.batch(onTimeline));
  }

  /**
   * The pipeline's tick: `wallNow` only says whether it is the shutdown tick (+Infinity, which moves
   * no rule); the rules take the timeline's now.
   */
  tick(wallNow: number): void {
    const now = Number.isFinite(wallNow) ? this.#timeline.advance() : wallNow;
    this.#guarded(() => this.#rules.tick(now));
  }

  /** Where the timeline stands (saved with the state, so a restart goes on from it). */
  timeline(): { t: number; wallMs: number } {
    return { t: this.#timeline.now, wallMs: this.#timeline.toWall(this.#timeline.now) };
  }

  /** What was made since the last call, in order. */
  take(): RuleEvent[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Puts what a saved state of another run has of this rule set (rule-state-map.ts) into the fresh state; false when the module refuses it. */
  restorePatches(patches: readonly StatePatch[]): boolean {
    try {
      const state = this.#rules.snapshot();
      for (const patch of patches) {
        if (patch.offset + patch.bytes.byteLength > state.byteLength) return false;
        state.set(patch.bytes, patch.offset);
      }
      // Saved at the first batch: the file then holds this rule set's pieces, so a crash soon after
      // a reload does not withdraw the removed rules' alarms a second time.
      this.#eventful = true;
      return this.restore(state);
    } catch (err) {
      if (!isWgError(err)) throw err;
      return false;
    }
  }

  /** Takes a state of this module (the worker before this one); false when the module refuses it. */
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
        for (const event of made) {
          (event as { ts: number }).ts = this.#timeline.toWall(event.ts);
          this.#pending.push(event);
        }
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
