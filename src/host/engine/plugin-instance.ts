/**
 * One live instance of a plugin: the typed face of its exports. Every call is guarded: a trap becomes
 * WG_ERR_PLUGIN_TRAP and poisons the instance (the runner replaces it), an error status becomes
 * WG_ERR_PLUGIN_STATUS or WG_ERR_PLUGIN_CONFIGURE carrying the plugin's last error-level log line.
 */
import { WgError, type ErrorContext } from '../errors.js';
import { LogLevel, STATUS_NAMES, Status } from './abi.js';
import { v8Engine, type CompiledPlugin, type Engine } from './engine.js';

/**
 * What a device's response to a write means (ABI 1.2 wg_write_check): confirmed, or failed with a
 * wasmgate code (WG_ERR_DEVICE_EXCEPTION with the device's exception code, WG_ERR_WRITE_UNCONFIRMED
 * when the echo does not match) and the plugin's account of it.
 */
export type WriteVerdict = { ok: true } | { ok: false; code: 'WG_ERR_DEVICE_EXCEPTION' | 'WG_ERR_WRITE_UNCONFIRMED'; detail: string; exception?: number };

/**
 * What a device's answer to a subscription request means (ABI 1.6 wg_subscribe_check): accepted, or
 * refused with the plugin's account of the device's reason (an Error, a Reject, an Abort).
 */
export type SubscribeVerdict = { ok: true } | { ok: false; reason: string };

export interface PluginLogLine {
  level: number;
  message: string;
}

export interface InstanceOptions {
  engine?: Engine;
  /** Receives each log line the plugin writes (after rate limiting). */
  onLog?: (line: PluginLogLine) => void;
  /** Wall clock in ms since the epoch; the plugin's only clock. */
  now?: () => number;
  /** Context attached to every error (pipeline, step). */
  context?: ErrorContext;
  /** Log lines per second before the excess is counted instead of written. */
  logRateLimit?: number;
}

type Fn0 = () => number;
type Fn1 = (a: number) => number;
type Fn2 = (a: number, b: number) => number;
type Fn3 = (a: number, b: number, c: number) => number;
type Fn4 = (a: number, b: number, c: number, d: number) => number;

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** What a wasm `throw` becomes in JS (exception handling); not in TypeScript's lib yet. */
const WasmException = (WebAssembly as unknown as { Exception: new (...args: never[]) => object }).Exception;
/** Longest plugin log line the host writes; the rest is cut and its size said. */
export const MAX_LOG_LINE_BYTES = 2048;
/** Longest wg_stats output the host parses. */
export const MAX_STATS_BYTES = 65536;

export class PluginInstance {
  readonly plugin: CompiledPlugin;
  #memory: WebAssembly.Memory;
  #bytes: Uint8Array;
  #input: Fn1;
  #output: Fn0;
  #configure: Fn1;
  #process: Fn1;
  #tick?: Fn1;
  #units?: Fn0;
  #stats?: Fn0;
  #requests?: Fn0;
  #request?: Fn2;
  #frameLength?: Fn1;
  #framing?: Fn0;
  #writeFn?: Fn4;
  #writeCheck?: Fn3;
  #subscriptions?: Fn0;
  #subscribe?: Fn3;
  #subscribeCheck?: Fn3;
  #reply?: Fn1;
  #drain?: Fn0;
  #snapshot?: Fn0;
  #restore?: Fn1;
  #exports: WebAssembly.Exports;
  #context: ErrorContext;
  #onLog?: (line: PluginLogLine) => void;
  #lastError = '';
  #logWindowStart = 0;
  #logsInWindow = 0;
  #logRateLimit: number;
  #now: () => number;
  /** Log lines dropped by the rate limit. */
  logsSuppressed = 0;
  /** Set after a trap: the instance must not be called again. */
  poisoned = false;

  constructor(plugin: CompiledPlugin, options: InstanceOptions = {}) {
    this.plugin = plugin;
    this.#context = { plugin: plugin.name, ...options.context };
    this.#onLog = options.onLog;
    this.#now = options.now ?? Date.now;
    this.#logRateLimit = options.logRateLimit ?? 100;
    const engine = options.engine ?? v8Engine;
    const exports = engine.instantiate(plugin, {
      log: (level, ptr, len) => this.#log(level, ptr, len),
      now: () => this.#now(),
    });
    this.#exports = exports;
    this.#memory = exports.memory as WebAssembly.Memory;
    this.#bytes = new Uint8Array(this.#memory.buffer);
    this.#input = exports.wg_input as Fn1;
    this.#output = exports.wg_output as Fn0;
    this.#configure = exports.wg_configure as Fn1;
    this.#process = exports.wg_process as Fn1;
    this.#tick = exports.wg_tick as Fn1 | undefined;
    this.#units = exports.wg_units as Fn0 | undefined;
    this.#stats = exports.wg_stats as Fn0 | undefined;
    if (plugin.facts.polling) {
      this.#requests = exports.wg_requests as Fn0;
      this.#request = exports.wg_request as Fn2;
      this.#frameLength = exports.wg_frame_length as Fn1;
      this.#framing = exports.wg_framing as Fn0 | undefined;
    }
    this.#drain = exports.wg_drain as Fn0 | undefined;
    if (plugin.facts.snapshots) {
      this.#snapshot = exports.wg_snapshot as Fn0;
      this.#restore = exports.wg_restore as Fn1;
    }
    if (plugin.facts.writes) {
      this.#writeFn = exports.wg_write as Fn4;
      this.#writeCheck = exports.wg_write_check as Fn3;
    }
    if (plugin.facts.subscribes) {
      this.#subscriptions = exports.wg_subscriptions as Fn0;
      this.#subscribe = exports.wg_subscribe as Fn3;
      this.#subscribeCheck = exports.wg_subscribe_check as Fn3;
    }
    this.#reply = exports.wg_reply as Fn1 | undefined;
  }

  get ticks(): boolean {
    return this.#tick !== undefined;
  }

  /** Current size of the plugin's linear memory in bytes. */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Hands the settings document to the plugin. Throws WG_ERR_PLUGIN_CONFIGURE when it refuses them. */
  configure(settings: unknown): void {
    const doc = Buffer.from(JSON.stringify(settings), 'utf8');
    const status = this.#guard('wg_configure', () => this.#configure(this.#write(doc)));
    if (status < 0) {
      throw new WgError('WG_ERR_PLUGIN_CONFIGURE', {
        ...this.#context,
        detail: this.#lastError || `status ${STATUS_NAMES[status] ?? status}`,
        status,
      });
    }
  }

  /**
   * Runs one batch. Returns a view of the plugin's output, valid until the next call into this instance,
   * or `input` itself when the plugin reported it unchanged.
   */
  process(input: Uint8Array): Uint8Array {
    const result = this.#guard('wg_process', () => this.#process(this.#write(input)));
    if (result === Status.UNCHANGED) return input;
    return this.#result('wg_process', result);
  }

  /** Time-driven output (buckets closing, heartbeats); empty when the plugin has no wg_tick. */
  tick(now: number): Uint8Array {
    const tick = this.#tick;
    if (!tick) return new Uint8Array(0);
    const result = this.#guard('wg_tick', () => tick(now));
    return this.#result('wg_tick', result);
  }

  /** Whether the plugin can hand its state over (ABI 1.3 wg_snapshot and wg_restore). */
  get snapshots(): boolean {
    return this.#snapshot !== undefined;
  }

  /**
   * Flushes what the step holds (ABI 1.3 wg_drain) as a batch like wg_tick's; a plugin without
   * wg_drain is asked with wg_tick(+Infinity), which has meant "flush everything" since 1.0. Empty when
   * it has neither. A copy the caller owns.
   */
  drain(): Uint8Array {
    const drain = this.#drain;
    if (drain) return this.#result('wg_drain', this.#guard('wg_drain', () => drain())).slice();
    return this.tick(Infinity).slice();
  }

  /** The plugin's state as an opaque blob (ABI 1.3 wg_snapshot). A copy the caller owns. */
  snapshot(): Uint8Array {
    const snapshot = this.#snapshot;
    if (!snapshot) throw new WgError('WG_ERR_PLUGIN_ABI', { ...this.#context, file: this.plugin.file, detail: 'wg_snapshot called on a plugin without the state group' });
    return this.#result('wg_snapshot', this.#guard('wg_snapshot', () => snapshot())).slice();
  }

  /**
   * Hands a predecessor's snapshot to this freshly configured instance (ABI 1.3 wg_restore). True when
   * it took it; false when it refused it (another format, settings it cannot carry over), with its
   * logged reason as `lastRefusal`: it then starts fresh, as configured.
   */
  restore(blob: Uint8Array): boolean {
    const restore = this.#restore;
    if (!restore) throw new WgError('WG_ERR_PLUGIN_ABI', { ...this.#context, file: this.plugin.file, detail: 'wg_restore called on a plugin without the state group' });
    const status = this.#guard('wg_restore', () => restore(this.#write(blob)));
    if (status === Status.OK) return true;
    if (status === Status.REFUSED) {
      this.lastRefusal = this.#lastError || 'the plugin gave no reason';
      return false;
    }
    throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, call: 'wg_restore', detail: `${STATUS_NAMES[status] ?? status} from wg_restore${this.#lastError ? `: ${this.#lastError}` : ''}`, status });
  }

  /** Why the last wg_restore refused its snapshot. */
  lastRefusal = '';

  /**
   * Units of each point after this step (empty string: unchanged), or undefined when the plugin does
   * not change units. Call after configure().
   */
  units(pointCount: number): string[] | undefined {
    const units = this.#units;
    if (!units) return undefined;
    const len = this.#guard('wg_units', () => units());
    const out = this.#result('wg_units', len);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const result: string[] = [];
    let pos = 0;
    for (let i = 0; i < pointCount; i++) {
      if (pos + 2 > out.byteLength) throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, detail: `wg_units output ends after ${i} of ${pointCount} points` });
      const n = view.getUint16(pos, true);
      result.push(utf8.decode(out.subarray(pos + 2, pos + 2 + n)));
      pos += 2 + n;
    }
    return result;
  }

  /** The plugin's own counters (wg_stats), or undefined when it keeps none. */
  stats(): Record<string, number> | undefined {
    const stats = this.#stats;
    if (!stats) return undefined;
    const len = this.#guard('wg_stats', () => stats());
    // A few counters are a few hundred bytes; 16 MiB of JSON parsed at every report cost 140 MB RSS.
    if (len > MAX_STATS_BYTES) throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, detail: `wg_stats output of ${len} bytes; at most ${MAX_STATS_BYTES} are read` });
    const text = utf8.decode(this.#result('wg_stats', len));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, detail: `wg_stats output is not JSON: ${text.slice(0, 80)}` });
    }
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'number') out[k] = v;
    return out;
  }

  /** The polling plan: one device index per request. */
  requests(): Uint32Array {
    const requests = this.#polling('wg_requests', this.#requests);
    const count = this.#guard('wg_requests', () => requests());
    const out = this.#result('wg_requests', count < 0 ? count : count * 4);
    return new Uint32Array(out.slice().buffer);
  }

  /** The frame for request `index`, built with sequence number `seq`. A copy the caller owns. */
  request(index: number, seq: number): Uint8Array {
    const request = this.#polling('wg_request', this.#request);
    const len = this.#guard('wg_request', () => request(index, seq));
    return this.#result('wg_request', len).slice();
  }

  /** 0: need more bytes; n > 0: the first n bytes are a frame; negative: not a valid frame start. */
  frameLength(received: Uint8Array): number {
    const frameLength = this.#polling('wg_frame_length', this.#frameLength);
    return this.#guard('wg_frame_length', () => frameLength(this.#write(received)));
  }

  /** The framing rule the decoder declares (wg_framing, ABI 1.1) as its text, or undefined without one. */
  framing(): string | undefined {
    const framing = this.#framing;
    if (!framing) return undefined;
    const len = this.#guard('wg_framing', () => framing());
    return utf8.decode(this.#result('wg_framing', len));
  }

  /**
   * The frame that writes `value` to point `point` of device `device`, sent with `seq` (ABI 1.2
   * wg_write). A copy the caller owns. A write the plugin refuses throws WG_ERR_WRITE_REFUSED with
   * its reason.
   */
  writeFrame(device: number, point: number, value: number, seq: number): Uint8Array {
    const write = this.#polling('wg_write', this.#writeFn, 'write');
    const len = this.#guard('wg_write', () => write(device, point, value, seq));
    if (len === Status.REFUSED || len === Status.OUT_OF_RANGE) {
      const detail = len === Status.OUT_OF_RANGE ? `no point ${point} in the settings` : this.#lastError || 'the plugin gave no reason';
      throw new WgError('WG_ERR_WRITE_REFUSED', { ...this.#context, device: `#${device}`, point: `#${point}`, detail });
    }
    return this.#result('wg_write', len).slice();
  }

  /** Whether `response` confirms the write `request` of point `point` (ABI 1.2 wg_write_check). */
  checkWrite(point: number, request: Uint8Array, response: Uint8Array): WriteVerdict {
    const check = this.#polling('wg_write_check', this.#writeCheck, 'write');
    const both = new Uint8Array(request.byteLength + response.byteLength);
    both.set(request);
    both.set(response, request.byteLength);
    const status = this.#guard('wg_write_check', () => check(point, request.byteLength, this.#write(both)));
    if (status === Status.OK) return { ok: true };
    const detail = this.#lastError || `status ${status}`;
    if (status > 0 && status <= 255) return { ok: false, code: 'WG_ERR_DEVICE_EXCEPTION', exception: status, detail };
    if (status === Status.BAD_FRAME) return { ok: false, code: 'WG_ERR_WRITE_UNCONFIRMED', detail };
    throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, call: 'wg_write_check', detail: `${STATUS_NAMES[status] ?? status} from wg_write_check${this.#lastError ? `: ${this.#lastError}` : ''}`, status });
  }

  /** The subscription plan (ABI 1.6 wg_subscriptions): one device index per subscription; empty without the group. */
  subscriptions(): Uint32Array {
    const subscriptions = this.#subscriptions;
    if (!subscriptions) return new Uint32Array(0);
    const count = this.#guard('wg_subscriptions', () => subscriptions());
    const out = this.#result('wg_subscriptions', count < 0 ? count : count * 4);
    return new Uint32Array(out.slice().buffer);
  }

  /** The frame of subscription `index` (or its cancellation), sent with `seq` (ABI 1.6 wg_subscribe). A copy the caller owns. */
  subscribeFrame(index: number, seq: number, cancel: boolean): Uint8Array {
    const subscribe = this.#polling('wg_subscribe', this.#subscribe, 'subscription');
    const len = this.#guard('wg_subscribe', () => subscribe(index, seq, cancel ? 1 : 0));
    return this.#result('wg_subscribe', len).slice();
  }

  /** Whether `response` accepts subscription request `request` of subscription `index` (ABI 1.6 wg_subscribe_check). */
  checkSubscribe(index: number, request: Uint8Array, response: Uint8Array): SubscribeVerdict | 'not-an-answer' {
    const check = this.#polling('wg_subscribe_check', this.#subscribeCheck, 'subscription');
    const both = new Uint8Array(request.byteLength + response.byteLength);
    both.set(request);
    both.set(response, request.byteLength);
    const status = this.#guard('wg_subscribe_check', () => check(index, request.byteLength, this.#write(both)));
    if (status === Status.OK) return { ok: true };
    if (status === Status.BAD_FRAME) return 'not-an-answer';
    return { ok: false, reason: utf8.decode(this.#result('wg_subscribe_check', status)) };
  }

  /** The frame to send back for unsolicited frame `frame` (ABI 1.6 wg_reply), or undefined for none (or without the export). */
  reply(frame: Uint8Array): Uint8Array | undefined {
    const reply = this.#reply;
    if (!reply) return undefined;
    const len = this.#guard('wg_reply', () => reply(this.#write(frame)));
    return len === 0 ? undefined : this.#result('wg_reply', len).slice();
  }

  /**
   * Calls `name`, an export of this plugin's own outside the ABI (the bacnet plugin's scan codec), with
   * `input` in its input region when given (its size then goes before `args`), guarded like every
   * call; returns a copy of the `len` bytes of output its result names.
   */
  callOwn(name: string, args: readonly number[], input?: Uint8Array): Uint8Array {
    const fn = this.#exports[name];
    // The ABI's names (wg_*) have their own guarded methods; this is for the rest (docs/plugin-abi.md, "Naming").
    if (typeof fn !== 'function' || name.startsWith('wg_')) {
      throw new WgError('WG_ERR_PLUGIN_ABI', { ...this.#context, file: this.plugin.file, detail: `${name} is not a function of ${this.plugin.name}'s own` });
    }
    const call = fn as (...a: number[]) => number;
    const len = this.#guard(name, () => (input ? call(this.#write(input), ...args) : call(...args)));
    return this.#result(name, len).slice();
  }

  #polling<F>(name: string, fn: F | undefined, group = 'polling'): F {
    if (!fn) throw new WgError('WG_ERR_PLUGIN_ABI', { ...this.#context, file: this.plugin.file, detail: `${name} called on a plugin without the ${group} group` });
    return fn;
  }

  #write(data: Uint8Array): number {
    const size = data.byteLength;
    const ptr = this.#guard('wg_input', () => this.#input(size));
    this.#view().set(data, ptr);
    return size;
  }

  #result(call: string, len: number): Uint8Array {
    if (len < 0) {
      throw new WgError('WG_ERR_PLUGIN_STATUS', { ...this.#context, call, detail: `${STATUS_NAMES[len] ?? len} from ${call}${this.#lastError ? `: ${this.#lastError}` : ''}`, status: len });
    }
    const ptr = this.#output();
    return this.#view().subarray(ptr, ptr + len);
  }

  #view(): Uint8Array {
    if (this.#bytes.buffer !== this.#memory.buffer) this.#bytes = new Uint8Array(this.#memory.buffer);
    return this.#bytes;
  }

  #guard(call: string, fn: () => number): number {
    if (this.poisoned) throw new WgError('WG_ERR_PLUGIN_TRAP', { ...this.#context, detail: `${call}: instance is poisoned by an earlier trap` });
    this.#lastError = '';
    try {
      return fn();
    } catch (err) {
      // A wasm `throw` that nothing in the plugin caught ends the call like a trap does.
      const thrown = err instanceof WasmException;
      if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError || thrown) {
        this.poisoned = true;
        const what = thrown ? 'uncaught WebAssembly exception' : (err as Error).message;
        throw new WgError('WG_ERR_PLUGIN_TRAP', { ...this.#context, detail: `${call}: ${what}${this.#lastError ? ` (${this.#lastError})` : ''}` }, { cause: err });
      }
      throw err;
    }
  }

  #log(level: number, ptr: number, len: number): void {
    // A line is cut before it is decoded: 100 lines of 8 MiB a second took the daemon past its heap.
    const cut = Math.max(0, len - MAX_LOG_LINE_BYTES);
    const text = utf8.decode(this.#view().subarray(ptr, ptr + Math.min(len, MAX_LOG_LINE_BYTES)));
    const message = cut > 0 ? `${text}... (${cut} more bytes cut)` : text;
    if (level >= LogLevel.error) this.#lastError = message;
    const now = Date.now();
    if (now - this.#logWindowStart >= 1000) {
      this.#logWindowStart = now;
      this.#logsInWindow = 0;
    }
    if (++this.#logsInWindow > this.#logRateLimit) {
      this.logsSuppressed++;
      return;
    }
    this.#onLog?.({ level, message });
  }
}
