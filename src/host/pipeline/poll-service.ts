/**
 * The worker's side of the poll channel: the decoder's polling instance (wg_request, wg_frame_length),
 * called only from inside the worker under the watchdog. A trap answers that one call with an error
 * and replaces the instance, exactly as a trap in a batch does; a hang gets the worker killed.
 */
import type { CompiledPlugin } from '../engine/engine.js';
import { PluginInstance, type PluginLogLine } from '../engine/plugin-instance.js';
import { WgError, isWgError } from '../errors.js';
import { parseFramingRule, withSeq } from '../engine/framing-rule.js';
import type { PlannedFraming, PollCall, PollReply, PollingCounters } from './poll-protocol.js';
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

  /** The request plan: one device index per request. */
  requests(): Uint32Array {
    return this.#instance.requests();
  }

  /**
   * The decoder's framing rule with every request's frame, when it declares one (wg_framing) and its
   * own frames agree with it: each request built with a second sequence number must be the template
   * with that number written where the rule says. A rule that does not hold is logged and not used;
   * the pollers then call the plugin over the poll channel instead.
   */
  framing(requests: number): PlannedFraming | null {
    const text = this.#instance.framing();
    if (text === undefined) return null;
    const rule = parseFramingRule(text, { plugin: this.#plugin.name, ...this.#context });
    const templates: Uint8Array[] = [];
    for (let r = 0; r < requests; r++) {
      const template = this.#instance.request(r, 0);
      const probe = this.#instance.request(r, PROBE_SEQ);
      // A frame the ring cannot record is refused call by call (#checked), with the plugin named.
      if (template.byteLength > this.#maxRequestBytes) return null;
      if (!sameBytes(probe, withSeq(rule, template, PROBE_SEQ))) {
        this.#repeats.report('framing', 40, `wg_framing does not describe request ${r} (its frame with seq ${PROBE_SEQ} is not the template with seq written in); framing each exchange in the worker instead`, { step: 0, plugin: this.#plugin.name });
        return null;
      }
      templates.push(template);
    }
    return { rule, templates };
  }

  serve(call: PollCall): PollReply {
    this.counters.calls++;
    try {
      if (this.#instance.poisoned) {
        this.#instance = this.#create();
        this.counters.reinstantiations++;
      }
      const value = call.op === 'request' ? this.#checked(this.#instance.request(call.index, call.seq)) : this.#instance.frameLength(call.bytes);
      return { id: call.id, ok: true, value };
    } catch (err) {
      if (!isWgError(err)) throw err;
      if (err.code === 'WG_ERR_PLUGIN_TRAP') this.counters.traps++;
      else this.counters.errors++;
      const what = call.op === 'request' ? 'building a request frame' : 'framing a response';
      const context = { code: err.code, step: 0, plugin: this.#plugin.name, call: call.op === 'request' ? 'wg_request' : 'wg_frame_length' };
      this.#repeats.report(`poll:${err.code}`, 50, `${what} failed: ${err.message}`, context);
      return { id: call.id, ok: false, code: err.code, message: err.message, context: { ...err.context } };
    }
  }

  /** A frame the ingress ring cannot record would fail the poller after it was sent; refuse it here. */
  #checked(frame: Uint8Array): Uint8Array {
    if (frame.byteLength <= this.#maxRequestBytes) return frame;
    throw new WgError('WG_ERR_PLUGIN_STATUS', {
      ...this.#context, plugin: this.#plugin.name, call: 'wg_request',
      detail: `a ${frame.byteLength}-byte request frame from wg_request; the ingress ring records at most ${this.#maxRequestBytes}`,
    });
  }

  #create(): PluginInstance {
    const instance = new PluginInstance(this.#plugin, { context: this.#context, onLog: this.#log });
    instance.configure(this.#settings);
    return instance;
  }
}

/** A sequence number with every byte different, so a misplaced or mis-ordered field shows. */
const PROBE_SEQ = 0xa5c3;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
