/**
 * Plugin ABI v1 as constants: names, status values and record layouts (docs/plugin-abi.md is the
 * normative text; this module must agree with it).
 */

export const ABI_MAJOR = 1;
/** The newest minor version of ABI_MAJOR this host speaks (docs/plugin-abi.md, History). */
export const ABI_MINOR = 6;
export const ABI_MARKER = `wasmgate_abi_v${ABI_MAJOR}`;
/** Any export named like a version marker, to report "built for ABI vN" precisely. */
export const ABI_MARKER_PATTERN = /^wasmgate_abi_v(\d+)$/;

/** Namespace of every import the host grants. */
export const IMPORT_NAMESPACE = 'wasmgate';
/** The granted imports; anything else is refused. */
export const GRANTED_IMPORTS = ['log', 'now'] as const;

export const REQUIRED_EXPORTS = {
  memory: 'memory',
  wg_input: 'function',
  wg_output: 'function',
  wg_configure: 'function',
  wg_process: 'function',
} as const;

export const OPTIONAL_EXPORTS = {
  wg_tick: 'function', wg_units: 'function', wg_stats: 'function', wg_framing: 'function',
  // ABI 1.3: the swap lifecycle (docs/plugin-abi.md, "The swap lifecycle").
  wg_drain: 'function', wg_snapshot: 'function', wg_restore: 'function',
  // ABI 1.6: the reply to an unsolicited frame (docs/plugin-abi.md, "wg_reply").
  wg_reply: 'function',
} as const;
/** Decoders of polled protocols export all three or none. */
export const POLLING_EXPORTS = ['wg_requests', 'wg_request', 'wg_frame_length'] as const;
/** ABI 1.3: a plugin that hands its state to its successor exports both or none. */
export const STATE_EXPORTS = ['wg_snapshot', 'wg_restore'] as const;
/** ABI 1.2: decoders that can write to their devices export both or none. */
export const WRITE_EXPORTS = ['wg_write', 'wg_write_check'] as const;
/** ABI 1.6: decoders whose devices push on subscription (BACnet SubscribeCOV) export all three or none. */
export const SUBSCRIBE_EXPORTS = ['wg_subscriptions', 'wg_subscribe', 'wg_subscribe_check'] as const;

export const Status = {
  OK: 0,
  UNCHANGED: -1,
  BAD_SETTINGS: -2,
  BAD_INPUT: -3,
  NO_MEMORY: -4,
  BAD_FRAME: -5,
  OUT_OF_RANGE: -6,
  REFUSED: -7,
} as const;

export const STATUS_NAMES: Record<number, string> = {
  [-1]: 'WG_STATUS_UNCHANGED',
  [-2]: 'WG_STATUS_BAD_SETTINGS',
  [-3]: 'WG_STATUS_BAD_INPUT',
  [-4]: 'WG_STATUS_NO_MEMORY',
  [-5]: 'WG_STATUS_BAD_FRAME',
  [-6]: 'WG_STATUS_OUT_OF_RANGE',
  [-7]: 'WG_STATUS_REFUSED',
};

export type PluginKind = 'decoder' | 'transform' | 'encoder';

export const LogLevel = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 } as const;

/** Sample batch: u32 count, u32 textBytes, then 24-byte samples, then the text heap. */
export const SAMPLE_BATCH_HEADER = 8;
export const SAMPLE_SIZE = 24;
export const SampleField = { ts: 0, value: 8, point: 16, quality: 20, type: 21, aggregate: 22 } as const;

export const Quality = { good: 0, suspect: 1, bad: 2, noComm: 3 } as const;
export const QUALITY_NAMES = ['good', 'suspect', 'bad', 'no-comm'] as const;
export const SampleType = { number: 0, bool: 1, text: 2 } as const;
export const AGGREGATE_NAMES = ['raw', 'mean', 'min', 'max', 'first', 'last', 'count', 'sum'] as const;

/** Frame record (the ring's record format): u32 len, then this header, then request and response. */
export const FRAME_HEADER = 32;
export const FrameField = {
  len: 0,
  device: 4,
  request: 6,
  status: 8,
  seq: 10,
  ts: 16,
  reqLen: 24,
  respLen: 26,
} as const;
export const FrameStatus = { ok: 0, timeout: 1, linkLost: 2, unsolicited: 3, pushed: 4 } as const;
/** ABI 1.4: the request index of an unsolicited frame (no request asked for it). */
export const NO_REQUEST = 0xffff;
/** ABI 1.4: the device index of an unsolicited frame no configured device sent. */
export const NO_DEVICE = 0xffff;
/** The first minor version whose decoders are handed unsolicited frames (docs/plugin-abi.md, "Unsolicited frames"). */
export const UNSOLICITED_MINOR = 4;

/**
 * Whether a decoder whose manifest declares `manifestAbi` is handed unsolicited frame records. A
 * decoder of 1.0 to 1.3 was written when every record answered one of its requests, and may read
 * the request index of one into its plan: it never sees them (the host counts what it kept back).
 */
export function takesUnsolicited(manifestAbi: number | undefined): boolean {
  if (manifestAbi === undefined || Math.trunc(manifestAbi) !== ABI_MAJOR) return false;
  return Math.round((manifestAbi - ABI_MAJOR) * 10) >= UNSOLICITED_MINOR;
}

/** ABI 1.5: the point of a pushed frame whose resource stands for its whole device (the u32 at offset 12). */
export const NO_POINT_PUSHED = 0xffffffff;
/** The first minor version whose decoders are handed pushed frames (docs/plugin-abi.md, "Pushed frames"). */
export const PUSHED_MINOR = 5;

/** Whether a decoder whose manifest declares `manifestAbi` reads pushed frame records (ABI 1.5). */
export function takesPushed(manifestAbi: number | undefined): boolean {
  if (manifestAbi === undefined || Math.trunc(manifestAbi) !== ABI_MAJOR) return false;
  return Math.round((manifestAbi - ABI_MAJOR) * 10) >= PUSHED_MINOR;
}

/** Message record: u32 len, u32 point (or NO_POINT), payload, padded to 4. */
export const MESSAGE_HEADER = 8;
export const NO_POINT = 0xffffffff;

export function pad4(n: number): number {
  return (n + 3) & ~3;
}
