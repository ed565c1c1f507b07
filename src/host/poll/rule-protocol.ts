/**
 * A DeviceProtocol from the decoder's framing rules (ABI 1.1, wg_framing): request frames are the
 * templates the worker built at configure time with the sequence number written in, and frame
 * boundaries come from the rule of the device's framing (a Modbus TCP device and an RTU device of one
 * pipeline frame differently). No plugin code runs here, and no call crosses to the worker per
 * exchange, so a busy pipeline worker never holds a poll back (engine/framing-rule.ts says why).
 */
import { ruleFrameLength, withSeq, readSeq, seqMask, wantsReply } from '../engine/framing-rule.js';
import { WgError } from '../errors.js';
import type { DeviceProtocol } from '../pipeline/poll-channel.js';
import type { PlannedFraming } from '../pipeline/poll-protocol.js';

export class RuleProtocol {
  readonly #framing: PlannedFraming;
  readonly #pipeline: string;

  constructor(framing: PlannedFraming, pipeline: string) {
    this.#framing = framing;
    this.#pipeline = pipeline;
  }

  /** The protocol of device `device`: its requests, delimited by the rule of its framing. */
  forDevice(device: number): DeviceProtocol {
    const { deviceRules, templates, devices } = this.#framing;
    const pipeline = this.#pipeline;
    const fail = (detail: string) => Promise.reject(new WgError('WG_ERR_PLUGIN_STATUS', { pipeline, step: 0, detail }));
    const rule = deviceRules[device];
    return {
      request(index: number, seq: number): Promise<Uint8Array> {
        const template = templates[index];
        if (!template || devices[index] !== device) return fail(`no request ${index} of device ${device} in the plan`);
        return Promise.resolve(withSeq(rule!, template, seq));
      },
      frameLength(received: Uint8Array): Promise<number> {
        if (!rule) return fail(`no framing rule for device ${device}`);
        return Promise.resolve(ruleFrameLength(rule, received));
      },
      /** The sequence number a response carries, where the rule puts it; undefined when frames carry none. */
      seqOf(frame: Uint8Array): number | undefined {
        return rule ? readSeq(rule, frame) : undefined;
      },
      /** Whether an unsolicited frame may want a reply (ABI 1.6 `replies`); without a rule, any may. */
      wantsReply(frame: Uint8Array): boolean {
        return rule ? wantsReply(rule, frame) : true;
      },
      /** The part of a sequence number frames carry (a one-byte invoke id: its low 8 bits). */
      seqMask: rule ? seqMask(rule) : undefined,
      /** Always: framing by rule needs no worker (frames wait in the ring while one restarts). */
      whenAvailable(): Promise<boolean> {
        return Promise.resolve(true);
      },
    };
  }
}
