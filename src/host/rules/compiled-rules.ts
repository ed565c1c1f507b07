/**
 * A pipeline's rule set, compiled (rule-compiler.ts) and checked by the engine like any plugin
 * (ABI check, memory capped at the pipeline's plugin_memory), run as a PluginInstance: a trap in it
 * is a plugin trap, reported with the pipeline's name, and the instance is replaced.
 */
import { v8Engine, type CompiledPlugin } from '../engine/engine.js';
import { PluginInstance } from '../engine/plugin-instance.js';
import { compileRules } from './rule-compiler.js';
import { EVENT_BYTES, EVENTS_HEADER } from './rule-layout.js';
import type { RuleEvent, RuleSet } from './rule-set.js';

/** The name the compiled module goes by in logs, status and errors. */
export const RULES_PLUGIN = 'rules';

/** Compiles the rule set into a checked module (on the main thread: no plugin code runs here). */
export function compileRuleSet(set: RuleSet, pipeline: string, memoryLimitBytes?: number): CompiledPlugin {
  const bytes = compileRules(set);
  return v8Engine.compile(bytes, RULES_PLUGIN, `<rules of pipeline ${pipeline}>`, 1, memoryLimitBytes === undefined ? {} : { memoryLimitBytes });
}

export class CompiledRules {
  readonly #instance: PluginInstance;

  constructor(plugin: CompiledPlugin, context: { pipeline: string }) {
    this.#instance = new PluginInstance(plugin, { context });
    this.#instance.configure({});
  }

  get poisoned(): boolean {
    return this.#instance.poisoned;
  }

  /** Every sample of a sample batch; returns the events they made, in order. */
  batch(samples: Uint8Array): RuleEvent[] {
    return readEvents(this.#instance.process(samples));
  }

  tick(now: number): RuleEvent[] {
    return readEvents(this.#instance.tick(now));
  }

  /** The rules' state (every point's latest, windows, counters, each rule's phase): a copy. */
  snapshot(): Uint8Array {
    return this.#instance.snapshot();
  }

  /** Takes a snapshot of a module of the same rule set; false when its size says it is of another. */
  restore(state: Uint8Array): boolean {
    return this.#instance.restore(state);
  }
}

export function readEvents(out: Uint8Array): RuleEvent[] {
  if (out.byteLength < EVENTS_HEADER) return [];
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const count = Math.min(view.getUint32(0, true), Math.floor((out.byteLength - EVENTS_HEADER) / EVENT_BYTES));
  const events: RuleEvent[] = [];
  for (let i = 0, at = EVENTS_HEADER; i < count; i++, at += EVENT_BYTES) {
    events.push({ ts: view.getFloat64(at, true), rule: view.getUint32(at + 8, true), kind: view.getUint32(at + 12, true) === 1 ? 'fire' : 'clear', interlocks: view.getUint32(at + 16, true) });
  }
  return events;
}
