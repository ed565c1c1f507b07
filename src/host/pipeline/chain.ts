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
import { RecentInputs } from './recent-inputs.js';
import { settingsDocument } from './settings-document.js';
import type { LevelLog } from '../log-events.js';

export interface ChainStep {
  plugin: CompiledPlugin;
  kind: PluginKind;
  /** The step's resolved `with:` settings. */
  with: unknown;
  /** The plugin's version (its manifest's), for status, logs and rollbacks. */
  version?: string;
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
  /** Called after step `step` trapped (its batch is dropped): the crash-loop watch after a swap. */
  trapped?(step: number): void;
  /** Sees every sample batch before the encoder gets it: the pipeline's rules (src/host/rules). */
  toEncoder?(samples: Uint8Array): void;
}

/** How the state of a swapped step went from the old version to the new one. */
export type Handoff =
  | { state: 'restored'; bytes: number }
  /** The new version starts as configured; `drained`: samples the old version flushed first. */
  | { state: 'fresh'; reason: string; drained: number };

/** A new version of step `index`, configured and checked, not live yet (StepChain.prepare). */
export interface PreparedStep {
  readonly index: number;
  readonly step: ChainStep;
  readonly instance: PluginInstance;
  readonly doc: unknown;
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
  /** What each step's wg_units said (undefined: it changes none); a swap must keep them. */
  #units: Array<string[] | undefined> = [];
  /** Copies of the last inputs of each step, for a swap's canary run (recent-inputs.ts). */
  readonly recent: RecentInputs;
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
    this.recent = new RecentInputs(steps.length);
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
      this.#units[index] = units;
      if (units) points = points.map((p, i) => (units[i] ? { ...p, unit: units[i] } : p));
      this.#instances[index] = instance;
    });
  }

  /** The settings document step `index` was configured with (after configure()). */
  settingsOf(index: number): unknown {
    return this.#docs[index];
  }

  /** The steps as they run now (after swaps). */
  get steps(): readonly ChainStep[] {
    return this.#steps;
  }

  /**
   * Instantiates and configures a new version of step `index` with the settings document the current
   * one got (same pipeline, devices and points; its own `with:`), without touching the live chain.
   * Throws what configure throws, or WG_ERR_SWAP_INCOMPATIBLE when its kind or its units differ (the
   * steps after it were configured with those units).
   */
  prepare(index: number, step: ChainStep): PreparedStep {
    const current = this.#steps[index];
    const context = { pipeline: this.#context.pipeline, step: index, plugin: step.plugin.name };
    if (!current || current.kind !== step.kind) {
      throw new WgError('WG_ERR_SWAP_INCOMPATIBLE', { ...context, detail: `step ${index} is a ${current?.kind ?? 'missing step'}, the new version a ${step.kind}` });
    }
    const old = this.#docs[index] as ReturnType<typeof settingsDocument>;
    const doc = settingsDocument(this.#context, index, step.plugin.name, step.with, old.points);
    const instance = this.#create(index, step, doc);
    const units = instance.units(old.points.length);
    if (JSON.stringify(units ?? null) !== JSON.stringify(this.#units[index] ?? null)) {
      throw new WgError('WG_ERR_SWAP_INCOMPATIBLE', { ...context, detail: 'the new version changes units differently (wg_units), and the later steps were configured with the old units' });
    }
    return { index, step, instance, doc };
  }

  /**
   * Puts a prepared version live in place of the current one, between two batches. The state goes
   * across when the old version snapshots and the new one restores (ABI 1.3); otherwise the old one
   * is drained first (what it holds, an open bucket, flows on through the later steps into
   * `flushed`) and the new one starts as configured.
   */
  commit(prepared: PreparedStep, flushed: Uint8Array[]): Handoff {
    const i = prepared.index;
    const old = this.#instances[i]!;
    let instance = prepared.instance;
    let handoff: Handoff;
    try {
      handoff = this.#handOver(old, instance);
    } catch (err) {
      // A snapshot or restore that traps or fails costs the state, never the swap.
      if (!isWgError(err)) throw err;
      if (instance.poisoned) instance = this.#create(i, prepared.step, prepared.doc);
      handoff = { state: 'fresh', reason: `the handover failed: ${err.message}`, drained: 0 };
    }
    if (handoff.state === 'fresh' && !old.poisoned) {
      const held = this.#guarded(i, 0, () => old.drain());
      if (held !== null && held.byteLength > 0) {
        handoff.drained = sampleCount(held);
        if (i === this.#instances.length - 1) flushed.push(held);
        else {
          const batch = this.#run(i + 1, held, sampleCount(held), (instance, data) => instance.process(data));
          if (batch !== null && batch.byteLength > 0) flushed.push(batch.slice());
        }
      }
    }
    this.#steps = this.#steps.map((s, k) => (k === i ? prepared.step : s));
    this.#docs[i] = prepared.doc;
    this.#instances[i] = instance;
    this.#retiredStats[i] = {};
    this.counters[i] = { plugin: prepared.step.plugin.name, kind: prepared.step.kind, batches: 0, itemsIn: 0, itemsOut: 0, traps: 0, errors: 0, reinstantiations: 0, busyNs: 0, stats: {} };
    return handoff;
  }

  #handOver(old: PluginInstance, fresh: PluginInstance): Handoff {
    if (old.poisoned) return { state: 'fresh', reason: 'the old version had just trapped', drained: 0 };
    if (!old.snapshots) return { state: 'fresh', reason: 'the old version has no wg_snapshot', drained: 0 };
    if (!fresh.snapshots) return { state: 'fresh', reason: 'the new version has no wg_restore', drained: 0 };
    const blob = old.snapshot();
    if (!fresh.restore(blob)) return { state: 'fresh', reason: `the new version refused the snapshot: ${fresh.lastRefusal}`, drained: 0 };
    return { state: 'restored', bytes: blob.byteLength };
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

  /**
   * Flushes what every step holds (wg_drain, else wg_tick(+Infinity)), each step's output entering
   * the chain at the next step, as tick() does. Returns message batches for the uplink.
   */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.#instances.length; i++) {
      const produced = this.#guarded(i, 0, () => this.#instances[i]!.drain());
      if (produced === null || produced.byteLength === 0) continue;
      if (i === this.#instances.length - 1) {
        out.push(produced);
        continue;
      }
      const batch = this.#run(i + 1, produced, sampleCount(produced), (instance, data) => instance.process(data));
      if (batch !== null && batch.byteLength > 0) out.push(batch.slice());
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
      if (i === this.#instances.length - 1) this.#events.toEncoder?.(data);
      this.recent.keep(i, data);
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
      if (err.code === 'WG_ERR_PLUGIN_TRAP') {
        c.traps++;
        this.#events.trapped?.(i);
      } else c.errors++;
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
    return this.#create(index, this.#steps[index]!, this.#docs[index]);
  }

  #create(index: number, step: ChainStep, doc: unknown): PluginInstance {
    const context = { pipeline: this.#context.pipeline, step: index };
    const instance = new PluginInstance(step.plugin, {
      context,
      onLog: (line: PluginLogLine) => this.#events.log(line.level, line.message, { event: 'plugin.log', ...context, plugin: step.plugin.name }),
    });
    instance.configure(doc);
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
