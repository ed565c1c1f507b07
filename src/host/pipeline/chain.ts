/**
 * The step chain of one pipeline: decoder → transforms → encoder, run inside the pipeline worker.
 * The chain applies what every step needs and no plugin implements (practice 12): per-step counters,
 * timing, trap containment with a fresh instance, logging with pipeline/step/plugin names.
 */
import { SAMPLE_BATCH_HEADER, type PluginKind } from '../engine/abi.js';
import type { CompiledPlugin } from '../engine/engine.js';
import { PluginInstance, type PluginLogLine } from '../engine/plugin-instance.js';
import { readMessages } from '../engine/message-batch.js';
import { WgError, isWgError } from '../errors.js';
import type { RepeatLog } from './repeat-log.js';
import { settingsDocument } from './settings-document.js';
import type { LevelLog } from '../log-events.js';

export interface ChainStep {
  plugin: CompiledPlugin;
  kind: PluginKind;
  /** The step's resolved `with:` settings. */
  with: unknown;
}

/** What every step's settings document shares (docs/plugin-abi.md, wg_configure). */
export interface ChainContext {
  pipeline: string;
  devices: unknown[];
  points: Array<Record<string, unknown> & { unit?: string }>;
}

export interface StepCounters {
  plugin: string;
  kind: PluginKind;
  batches: number;
  /** Samples in (frames for a decoder) and out (messages for an encoder). */
  itemsIn: number;
  itemsOut: number;
  traps: number;
  errors: number;
  /** Instances created after the first (after traps). */
  reinstantiations: number;
  /** Time spent inside the plugin, ns. */
  busyNs: number;
  /** The plugin's own counters (wg_stats), summed over every instance the step has had. */
  stats: Record<string, number>;
}

export interface ChainEvents {
  log: LevelLog;
  /** Called just before a step runs: the watchdog reports which plugin a hung batch was in. */
  enterStep?(step: number): void;
  /** Where repeated failures (a step that traps on every batch) go, at a bounded rate; else `log`. */
  repeats?: RepeatLog;
}

export class StepChain {
  readonly counters: StepCounters[];
  #steps: ChainStep[];
  #docs: unknown[] = [];
  #instances: PluginInstance[] = [];
  #events: ChainEvents;
  /** Counters of instances that were replaced, per step. */
  #retiredStats: Array<Record<string, number>> = [];
  #context: ChainContext;
  /** Batches dropped because a step trapped or failed. */
  batchesDropped = 0;

  /** Largest message payload the egress ring takes as one record. */
  #maxMessageBytes: number;

  constructor(steps: ChainStep[], context: ChainContext, events: ChainEvents, maxMessageBytes = Infinity) {
    if (steps.length < 2 || steps[0]!.kind !== 'decoder' || steps[steps.length - 1]!.kind !== 'encoder' || steps.slice(1, -1).some((s) => s.kind !== 'transform')) {
      throw new WgError('WG_ERR_CONFIG_INVALID', { pipeline: context.pipeline, detail: `steps must be one decoder, any transforms, one encoder; got ${steps.map((s) => s.kind).join(' → ')}` });
    }
    this.#steps = steps;
    this.#context = context;
    this.#events = events;
    this.#maxMessageBytes = maxMessageBytes;
    this.counters = steps.map((s) => ({ plugin: s.plugin.name, kind: s.kind, batches: 0, itemsIn: 0, itemsOut: 0, traps: 0, errors: 0, reinstantiations: 0, busyNs: 0, stats: {} }));
  }

  /**
   * Instantiates and configures every step in order. A step that changes units (wg_units) changes the
   * `unit` of the points every later step sees.
   */
  configure(): void {
    let points = this.#context.points.map((p) => ({ ...p }));
    this.#steps.forEach((step, index) => {
      this.#events.enterStep?.(index);
      this.#docs[index] = settingsDocument(this.#context, index, step.plugin.name, step.with, points);
      const instance = this.#instantiate(index);
      const units = instance.units(points.length);
      if (units) points = points.map((p, i) => (units[i] ? { ...p, unit: units[i] } : p));
      this.#instances[index] = instance;
    });
  }

  /** The settings document step `index` was configured with (after configure()). */
  settingsOf(index: number): unknown {
    return this.#docs[index];
  }

  /** Runs a frame batch through every step. Returns the encoder's message batch, or null when dropped. */
  process(frames: Uint8Array, frameCount: number): Uint8Array | null {
    return this.#run(0, frames, frameCount, (instance, data) => instance.process(data));
  }

  /**
   * Lets time-driven steps emit (buckets closing, heartbeats). Each step's tick output enters the
   * chain at the next step. Returns message batches for the uplink.
   */
  tick(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.#instances.length; i++) {
      if (!this.#instances[i]!.ticks) continue;
      const produced = this.#guarded(i, 0, () => this.#instances[i]!.tick(now));
      if (produced === null || produced.byteLength === 0) continue;
      if (i === this.#instances.length - 1) {
        out.push(produced.slice());
        continue;
      }
      const batch = this.#run(i + 1, produced.slice(), sampleCount(produced), (instance, data) => instance.process(data));
      if (batch !== null && batch.byteLength > 0) out.push(batch);
    }
    return out;
  }

  /** Linear memory of each step's current instance, bytes, in chain order. */
  get memoryBytes(): number[] {
    return this.#instances.map((instance) => instance.memoryBytes);
  }

  /** Refreshes each step's plugin counters (wg_stats). A failing wg_stats is logged, not fatal. */
  collectStats(): void {
    this.#instances.forEach((instance, i) => {
      const current = this.#readStats(i, instance);
      if (current) this.counters[i]!.stats = addCounters(this.#retiredStats[i] ?? {}, current);
    });
  }

  #readStats(i: number, instance: PluginInstance): Record<string, number> | undefined {
    if (instance.poisoned) return undefined;
    this.#events.enterStep?.(i);
    try {
      return instance.stats();
    } catch (err) {
      if (!isWgError(err)) throw err;
      const context = { event: 'plugin.stats_failed' as const, code: err.code, step: i, plugin: this.counters[i]!.plugin, pipeline: this.#context.pipeline };
      // Counters are read every tick: a wg_stats that always fails is said once, then counted.
      if (this.#events.repeats) this.#events.repeats.report(`${i}:stats:${err.code}`, 40, `cannot read plugin counters: ${err.message}`, context);
      else this.#events.log(40, `cannot read plugin counters: ${err.message}`, context);
      return undefined;
    }
  }

  #run(from: number, input: Uint8Array, count: number, call: (i: PluginInstance, d: Uint8Array) => Uint8Array): Uint8Array | null {
    let data = input;
    let items = count;
    for (let i = from; i < this.#instances.length; i++) {
      const result = this.#guarded(i, items, () => call(this.#instances[i]!, data));
      if (result === null) return null;
      data = result;
      items = this.#steps[i]!.kind === 'encoder' ? messageCount(data) : sampleCount(data);
      this.counters[i]!.itemsOut += items;
    }
    return data;
  }

  /** Runs one call of step `i`; a trap or error drops the batch, counts it, and replaces a poisoned instance. */
  #guarded(i: number, itemsIn: number, call: () => Uint8Array): Uint8Array | null {
    const c = this.counters[i]!;
    this.#events.enterStep?.(i);
    const started = process.hrtime.bigint();
    try {
      const out = call();
      if (i === this.#instances.length - 1) this.#checkMessages(i, out);
      c.batches++;
      c.itemsIn += itemsIn;
      return out;
    } catch (err) {
      if (!isWgError(err)) throw err;
      this.batchesDropped++;
      if (err.code === 'WG_ERR_PLUGIN_TRAP') c.traps++;
      else c.errors++;
      const context = { event: 'plugin.batch_dropped' as const, code: err.code, step: i, plugin: c.plugin, pipeline: this.#context.pipeline };
      if (this.#events.repeats) this.#events.repeats.report(`${i}:${err.code}`, 50, `batch dropped: ${err.message}`, context);
      else this.#events.log(50, `batch dropped: ${err.message}`, context);
      if (this.#instances[i]!.poisoned) this.#replace(i, c);
      return null;
    } finally {
      c.busyNs += Number(process.hrtime.bigint() - started);
    }
  }

  /**
   * The encoder's output is read again when it is copied into the egress ring, outside this guard: a
   * batch that cannot be read or a message the ring cannot take fails here, as the encoder's error.
   */
  #checkMessages(i: number, batch: Uint8Array): void {
    const context = { pipeline: this.#context.pipeline, step: i, plugin: this.counters[i]!.plugin };
    for (const message of readMessages(batch, context)) {
      if (message.payload.byteLength > this.#maxMessageBytes) {
        throw new WgError('WG_ERR_PLUGIN_STATUS', { ...context, detail: `a ${message.payload.byteLength}-byte message; the egress ring takes at most ${this.#maxMessageBytes}` });
      }
    }
  }

  /**
   * Replaces step `i`'s poisoned instance. A fresh instance that fails to configure must not take the
   * worker down from inside the trap handler: the poisoned one stays, the next batch traps on it at
   * once, and the replacement is tried again then.
   */
  #replace(i: number, c: StepCounters): void {
    try {
      const fresh = this.#instantiate(i);
      // The poisoned instance's counters can no longer be read; keep what was last collected.
      this.#retiredStats[i] = { ...c.stats };
      this.#instances[i] = fresh;
      c.reinstantiations++;
    } catch (err) {
      if (!isWgError(err)) throw err;
      const context = { event: 'plugin.replace_failed' as const, code: err.code, step: i, plugin: c.plugin, pipeline: this.#context.pipeline };
      const message = `cannot replace the instance that trapped: ${err.message}`;
      if (this.#events.repeats) this.#events.repeats.report(`${i}:replace:${err.code}`, 50, message, context);
      else this.#events.log(50, message, context);
    }
  }

  #instantiate(index: number): PluginInstance {
    const step = this.#steps[index]!;
    const context = { pipeline: this.#context.pipeline, step: index };
    const instance = new PluginInstance(step.plugin, {
      context,
      onLog: (line: PluginLogLine) => this.#events.log(line.level, line.message, { event: 'plugin.log', ...context, plugin: step.plugin.name }),
    });
    instance.configure(this.#docs[index]);
    return instance;
  }
}

function addCounters(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sampleCount(batch: Uint8Array): number {
  return batch.byteLength >= SAMPLE_BATCH_HEADER ? new DataView(batch.buffer, batch.byteOffset, 4).getUint32(0, true) : 0;
}

function messageCount(batch: Uint8Array): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let n = 0;
  for (let at = 0; at + 8 <= batch.byteLength; at += (8 + view.getUint32(at, true) + 3) & ~3) n++;
  return n;
}
