/**
 * The worker's side of the poll channel: the decoder's polling instance (wg_request, wg_frame_length,
 * and the write group wg_write, wg_write_check), called only from inside the worker under the watchdog. A trap answers that one call with an error
 * and replaces the instance, exactly as a trap in a batch does; a hang gets the worker killed.
 */
import type { CompiledPlugin } from '../engine/engine.js';
import { PluginInstance, type PluginLogLine } from '../engine/plugin-instance.js';
import { WgError, isWgError } from '../errors.js';
import { DEFAULT_FRAMING, parseFramingRules, ruleFor, withSeq, type FramingRule } from '../engine/framing-rule.js';
import type { PlannedFraming, PollCall, PollReply, PollingCounters, PollValue } from './poll-protocol.js';
import type { RepeatLog } from './repeat-log.js';

export class PollService {
  readonly counters: PollingCounters = { calls: 0, traps: 0, errors: 0, reinstantiations: 0 };
  readonly #plugin: CompiledPlugin;
  readonly #settings: unknown;
  readonly #context: { pipeline: string; step: number };
  readonly #log: (line: PluginLogLine) => void;
  readonly #repeats: RepeatLog;
  readonly #maxRequestBytes: number;
  #instance: PluginInstance;

  /**
   * Instantiates and configures the polling instance; throws what configure throws. A request frame
   * longer than `maxRequestBytes` (what one ingress record can carry) is refused as an error status.
   */
  constructor(plugin: CompiledPlugin, settings: unknown, pipeline: string, log: (line: PluginLogLine) => void, repeats: RepeatLog, maxRequestBytes: number) {
    this.#maxRequestBytes = maxRequestBytes;
    this.#plugin = plugin;
    this.#settings = settings;
    this.#context = { pipeline, step: 0 };
    this.#log = log;
    this.#repeats = repeats;
    this.#instance = this.#create();
  }

  /** Linear memory of the polling instance, bytes. */
  get memoryBytes(): number {
    return this.#instance.memoryBytes;
  }

  /** The request plan: one device index per request. */
  requests(): Uint32Array {
    return this.#instance.requests();
  }

  /**
   * The decoder's framing rules with every request's frame, when it declares them (wg_framing) and its
   * own frames agree: each device gets the rule of its framing (the settings document's
   * `devices[i].framing`, "tcp" when absent), and each request built with a second sequence number must
   * be the template with that number written where its device's rule says. Rules that do not hold, or
   * that have none for a device's framing, are logged and not used; the pollers then call the plugin
   * over the poll channel instead.
   */
  framing(plan: Uint32Array): PlannedFraming | null {
    const text = this.#instance.framing();
    if (text === undefined) return null;
    const rules = parseFramingRules(text, { plugin: this.#plugin.name, ...this.#context });
    // Every device of the settings and of the plan (a plan may name a device the settings lack: the
    // plugin's business, framed as "tcp" here).
    const framings = deviceFramings(this.#settings);
    const count = plan.reduce((n, d) => Math.max(n, d + 1), framings.length);
    const deviceRules: FramingRule[] = [];
    for (let d = 0; d < count; d++) {
      const framing = framings[d] ?? DEFAULT_FRAMING;
      const rule = ruleFor(rules, framing);
      if (!rule) {
        this.#repeats.report('framing', 40, `wg_framing has no rule for framing "${framing}" of device ${d}; framing each exchange in the worker instead`, { event: 'plugin.framing_fallback', step: 0, plugin: this.#plugin.name });
        return null;
      }
      deviceRules.push(rule);
    }
    const templates: Uint8Array[] = [];
    for (let r = 0; r < plan.length; r++) {
      const rule = deviceRules[plan[r]!]!;
      const template = this.#instance.request(r, 0);
      const probe = this.#instance.request(r, PROBE_SEQ);
      // A frame the ring cannot record is refused call by call (#checked), with the plugin named.
      if (template.byteLength > this.#maxRequestBytes) return null;
      if (!sameBytes(probe, withSeq(rule, template, PROBE_SEQ))) {
        this.#repeats.report('framing', 40, `wg_framing does not describe request ${r} (its frame with seq ${PROBE_SEQ} is not the template with seq written in); framing each exchange in the worker instead`, { event: 'plugin.framing_fallback', step: 0, plugin: this.#plugin.name });
        return null;
      }
      templates.push(template);
    }
    return { deviceRules, templates, devices: [...plan] };
  }

  /**
   * What would make frames requested by this instance's plan decode wrongly under `next` (a new
   * version of the decoder), or null when none: the same request plan, the same framing rules and
   * templates, and every request built the same for a probe sequence number. Then the frames already
   * in the ingress ring, and the pollers' plan (built once, on the main thread), stay right across
   * the swap: the plan is kept compatible, so it does not matter which version decodes a frame.
   */
  differenceTo(next: PollService): string | null {
    const plan = this.requests();
    const nextPlan = next.requests();
    if (plan.length !== nextPlan.length || plan.some((d, r) => nextPlan[r] !== d)) return `its request plan differs (${nextPlan.length} requests for ${plan.length})`;
    const framing = JSON.stringify(this.framing(plan), bytesAsArrays);
    if (framing !== JSON.stringify(next.framing(nextPlan), bytesAsArrays)) return 'its framing rules or request templates (wg_framing) differ';
    for (let r = 0; r < plan.length; r++) {
      if (!sameBytes(this.#instance.request(r, PROBE_SEQ), next.#instance.request(r, PROBE_SEQ))) return `request ${r} is built differently`;
    }
    // ABI 1.6: the main thread's subscriptions (cov-subscription.ts) keep their indexes across a swap.
    const subscriptions = this.#instance.subscriptions();
    const nextSubscriptions = next.#instance.subscriptions();
    if (subscriptions.length !== nextSubscriptions.length || subscriptions.some((d, s) => nextSubscriptions[s] !== d)) return `its subscription plan differs (${nextSubscriptions.length} subscriptions for ${subscriptions.length})`;
    for (let s = 0; s < subscriptions.length; s++) {
      for (const cancel of [false, true]) {
        if (!sameBytes(this.#instance.subscribeFrame(s, PROBE_SEQ, cancel), next.#instance.subscribeFrame(s, PROBE_SEQ, cancel))) return `subscription ${s} is built differently`;
      }
    }
    return null;
  }

  serve(call: PollCall): PollReply {
    this.counters.calls++;
    try {
      if (this.#instance.poisoned) {
        this.#instance = this.#create();
        this.counters.reinstantiations++;
      }
      return { id: call.id, ok: true, value: this.#answer(call) };
    } catch (err) {
      if (!isWgError(err)) throw err;
      if (err.code === 'WG_ERR_PLUGIN_TRAP') this.counters.traps++;
      else this.counters.errors++;
      const { what, name } = CALLS[call.op];
      const context = { event: 'plugin.poll_failed' as const, code: err.code, step: 0, plugin: this.#plugin.name, call: name };
      // A refused write is the caller's news (it gets the error), not a fault of the plugin to log.
      if (err.code !== 'WG_ERR_WRITE_REFUSED') this.#repeats.report(`poll:${err.code}`, 50, `${what} failed: ${err.message}`, context);
      return { id: call.id, ok: false, code: err.code, message: err.message, context: { ...err.context } };
    }
  }

  #answer(call: PollCall): PollValue {
    switch (call.op) {
      case 'request':
        return this.#checked(this.#instance.request(call.index, call.seq));
      case 'frame':
        return this.#instance.frameLength(call.bytes);
      case 'writeFrame':
        try {
          return this.#checked(this.#instance.writeFrame(call.device, call.point, call.value, call.seq), 'wg_write');
        } catch (err) {
          // Named as the settings name them, not by index.
          if (!isWgError(err, 'WG_ERR_WRITE_REFUSED')) throw err;
          throw new WgError('WG_ERR_WRITE_REFUSED', { ...err.context, device: this.#name('devices', call.device), point: this.#name('points', call.point) });
        }
      case 'checkWrite':
        return this.#instance.checkWrite(call.point, call.request, call.response);
      case 'subscriptions':
        return this.#instance.subscriptions();
      case 'subscribeFrame':
        return this.#checked(this.#instance.subscribeFrame(call.index, call.seq, call.cancel), 'wg_subscribe');
      case 'checkSubscribe':
        return this.#instance.checkSubscribe(call.index, call.request, call.response);
      case 'reply':
        return this.#instance.reply(call.frame) ?? null;
    }
  }

  /** A frame the ingress ring cannot record would fail the poller after it was sent; refuse it here. */
  #checked(frame: Uint8Array, call = 'wg_request'): Uint8Array {
    if (frame.byteLength <= this.#maxRequestBytes) return frame;
    throw new WgError('WG_ERR_PLUGIN_STATUS', {
      ...this.#context, plugin: this.#plugin.name, call,
      detail: `a ${frame.byteLength}-byte request frame from ${call}; the ingress ring records at most ${this.#maxRequestBytes}`,
    });
  }

  /** The name of entry `index` of the settings document's `devices` or `points`, or #index. */
  #name(list: 'devices' | 'points', index: number): string {
    const entry = (this.#settings as Record<string, unknown>)[list];
    const name = Array.isArray(entry) ? (entry[index] as { name?: unknown } | undefined)?.name : undefined;
    return typeof name === 'string' ? name : `#${index}`;
  }

  #create(): PluginInstance {
    const instance = new PluginInstance(this.#plugin, { context: this.#context, onLog: this.#log });
    instance.configure(this.#settings);
    return instance;
  }
}

/** A sequence number with every byte different, so a misplaced or mis-ordered field shows. */
const PROBE_SEQ = 0xa5c3;

function bytesAsArrays(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? [...value] : value;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** What each call does, for the log line of its failure, and the export it calls. */
const CALLS: Record<PollCall['op'], { what: string; name: string }> = {
  request: { what: 'building a request frame', name: 'wg_request' },
  frame: { what: 'framing a response', name: 'wg_frame_length' },
  writeFrame: { what: 'building a write frame', name: 'wg_write' },
  checkWrite: { what: 'checking a write response', name: 'wg_write_check' },
  subscriptions: { what: 'listing the subscriptions', name: 'wg_subscriptions' },
  subscribeFrame: { what: 'building a subscription frame', name: 'wg_subscribe' },
  checkSubscribe: { what: 'checking a subscription answer', name: 'wg_subscribe_check' },
  reply: { what: 'building the reply to an unsolicited frame', name: 'wg_reply' },
};

/** Each device's framing as the settings document says it ("tcp" when absent). */
function deviceFramings(settings: unknown): string[] {
  const devices = (settings as { devices?: unknown }).devices;
  if (!Array.isArray(devices)) return [];
  return devices.map((d: unknown) => {
    const framing = (d as { framing?: unknown } | null)?.framing;
    return typeof framing === 'string' ? framing : DEFAULT_FRAMING;
  });
}
