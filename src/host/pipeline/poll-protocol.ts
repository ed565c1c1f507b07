/**
 * The messages of the poll channel: how the main thread's pollers use the decoder's polling group
 * (docs/plugin-abi.md), which runs in the pipeline worker where the watchdog can stop it. The main
 * thread only moves bytes; every call into plugin code happens on the worker's side of this channel.
 */
import type { FramingRule } from '../engine/framing-rule.js';

export type PollCall =
  | { id: number; op: 'request'; index: number; seq: number }
  | { id: number; op: 'frame'; bytes: Uint8Array };

export type PollReply =
  | { id: number; ok: true; value: number | Uint8Array }
  | { id: number; ok: false; code: string; message: string; context: Record<string, unknown> };

/**
 * Frames by rule (ABI 1.1 wg_framing): the rule and each request's frame built with sequence number 0.
 * The main thread then builds and delimits frames itself, and the poll channel is not used.
 */
export interface PlannedFraming {
  rule: FramingRule;
  templates: Uint8Array[];
}

/** What the polling instance has been through, shown in the pipeline's status. */
export interface PollingCounters {
  calls: number;
  traps: number;
  errors: number;
  /** Fresh polling instances after a trap. */
  reinstantiations: number;
}
