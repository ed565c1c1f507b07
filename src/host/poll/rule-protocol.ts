/**
 * A DeviceProtocol from the decoder's framing rule (ABI 1.1, wg_framing): request frames are the
 * templates the worker built at configure time with the sequence number written in, and frame
 * boundaries come from the rule. No plugin code runs here, and no call crosses to the worker per
 * exchange, so a busy pipeline worker never holds a poll back (engine/framing-rule.ts says why).
 */
import { ruleFrameLength, withSeq, readSeq } from '../engine/framing-rule.js';
import { WgError } from '../errors.js';
import type { DeviceProtocol } from '../pipeline/poll-channel.js';
import type { PlannedFraming } from '../pipeline/poll-protocol.js';

export class RuleProtocol implements DeviceProtocol {
  readonly #framing: PlannedFraming;
  readonly #pipeline: string;

  constructor(framing: PlannedFraming, pipeline: string) {
    this.#framing = framing;
    this.#pipeline = pipeline;
  }

  request(index: number, seq: number): Promise<Uint8Array> {
    const template = this.#framing.templates[index];
    if (!template) return Promise.reject(new WgError('WG_ERR_PLUGIN_STATUS', { pipeline: this.#pipeline, step: 0, detail: `no request ${index} in the plan` }));
    return Promise.resolve(withSeq(this.#framing.rule, template, seq));
  }

  frameLength(received: Uint8Array): Promise<number> {
    return Promise.resolve(ruleFrameLength(this.#framing.rule, received));
  }

  /** The sequence number a response carries, where the rule puts it; undefined when frames carry none. */
  seqOf(frame: Uint8Array): number | undefined {
    return readSeq(this.#framing.rule, frame);
  }

  /** Always: framing by rule needs no worker (frames wait in the ring while one restarts). */
  whenAvailable(): Promise<boolean> {
    return Promise.resolve(true);
  }
}
