/**
 * The messages of the poll channel: how the main thread's pollers use the decoder's polling group
 * (docs/plugin-abi.md), which runs in the pipeline worker where the watchdog can stop it. The main
 * thread only moves bytes; every call into plugin code happens on the worker's side of this channel.
 */
import type { FramingRule } from '../engine/framing-rule.js';
import type { SubscribeVerdict, WriteVerdict } from '../engine/plugin-instance.js';

export type PollCall =
  | { id: number; op: 'request'; index: number; seq: number }
  | { id: number; op: 'frame'; bytes: Uint8Array }
  | { id: number; op: 'writeFrame'; device: number; point: number; value: number; seq: number }
  | { id: number; op: 'checkWrite'; point: number; request: Uint8Array; response: Uint8Array }
  // ABI 1.6: the subscription group and wg_reply.
  | { id: number; op: 'subscriptions' }
  | { id: number; op: 'subscribeFrame'; index: number; seq: number; cancel: boolean }
  | { id: number; op: 'checkSubscribe'; index: number; request: Uint8Array; response: Uint8Array }
  | { id: number; op: 'reply'; frame: Uint8Array };

export type { SubscribeVerdict, WriteVerdict };

/** What a poll call answers. */
export type PollValue = number | Uint8Array | Uint32Array | WriteVerdict | SubscribeVerdict | 'not-an-answer' | null;

export type PollReply =
  | { id: number; ok: true; value: PollValue }
  | { id: number; ok: false; code: string; message: string; context: Record<string, unknown> };

/**
 * Frames by rule (ABI 1.1 wg_framing): the rule of each device (chosen by its framing) and each
 * request's frame built with sequence number 0. The main thread then builds and delimits frames
 * itself, and the poll channel is not used for reads.
 */
export interface PlannedFraming {
  /** By device index. */
  deviceRules: FramingRule[];
  /** By request index. */
  templates: Uint8Array[];
  /** The device of each request (the plan). */
  devices: number[];
}

/** What the polling instance has been through, shown in the pipeline's status. */
export interface PollingCounters {
  calls: number;
  traps: number;
  errors: number;
  /** Fresh polling instances after a trap. */
  reinstantiations: number;
}
