/**
 * The push-source seam: a source kind whose devices send to the gateway (a CoAP server, an MQTT
 * subscription) instead of being polled. Such a kind implements `listen` in its SourceKind
 * (source-kind.ts) and resolves its links with `transport: 'push'` (config/resolved.ts,
 * ResolvedPushLink); pipeline assembly then starts one listener per link instead of an arbiter and
 * pollers, and the listener hands each body it accepts to `PushIngress.push`, which writes it into
 * the pipeline's ingress ring as a pushed frame record (ABI 1.5, docs/plugin-abi.md "Pushed frames").
 *
 * What every push kind keeps to, so that operators see the same thing whatever the protocol:
 * - A body is acknowledged to its sender (a CoAP ACK 2.04, an MQTT PUBACK) only after `push()`
 *   resolved `true`: it is then in the ring, which the worker drains even across a plugin trap.
 * - Every refusal is counted by its reason (`PushRefusal`) and logged as `push.refused` with the
 *   sender's address, repeats summarised (push-gate.ts does both).
 * - Memory is bounded under a flood: a token bucket per source and a limit on bodies waiting for room
 *   in the ring (push-gate.ts); what either refuses is counted, never queued.
 */
import type { Clock } from '../../hal/clock.js';
import type { LevelLog } from '../log-events.js';

/** One body a device pushed, as the listener hands it over. */
export interface PushedFrame {
  /** The device index (ResolvedDevice.index) the resource is mapped to. */
  readonly device: number;
  /** The point id the resource is mapped to; undefined when the resource stands for the whole device (the body names its points). */
  readonly point?: number;
  /** The sender's transport address as text: `192.0.2.10:5683`, `[2001:db8::1]:40123`, an MQTT client's broker address. */
  readonly sender: string;
  /** Where it was sent: the CoAP Uri-Path (`/sensors/t1`), the MQTT topic. */
  readonly resource: string;
  /** The body's media type as the sender declared it (`application/json`, `application/cbor`); '' when it declared none. */
  readonly mediaType: string;
  readonly body: Uint8Array;
  /** Wall-clock ms since the epoch when it arrived (a sample's default timestamp). */
  readonly ts: number;
}

export interface PushIngress {
  /**
   * Writes `frame` into the pipeline's ingress ring as one pushed record. Resolves `true` once the
   * record is committed there (waiting for room as a poller does), `false` when nothing was written:
   * the pipeline is stopping. Throws nothing.
   */
  push(frame: PushedFrame): Promise<boolean>;
  /** The most body bytes one record may carry: the ring's record limit less the request part (and at most 65535, a u16). */
  readonly maxBodyBytes: number;
}

/** Why a push source refused what a device sent; the keys of `PushSourceStatus.refused`. */
export type PushRefusal =
  /** No configured resource (CoAP 4.04; an MQTT topic that no pattern maps). */
  | 'unknown_resource'
  /** A method the resource does not take (CoAP 4.05: GET, DELETE, FETCH …). */
  | 'method'
  /** A body larger than the source's `max_body` (CoAP 4.13), or a Block1 transfer that would be. */
  | 'too_large'
  /** A media type the source does not accept (CoAP 4.15). */
  | 'media_type'
  /** Over the source's rate (its token bucket is empty; CoAP 5.03 with Max-Age). */
  | 'rate'
  /** Too many bodies already wait for room in the ring (CoAP 5.03). */
  | 'queue'
  /** The pipeline is stopping (CoAP 5.03). */
  | 'stopping'
  /** Not a request this source can read at all (a malformed CoAP message, an MQTT payload over the limit). */
  | 'malformed';

export const PUSH_REFUSALS: readonly PushRefusal[] = ['unknown_resource', 'method', 'too_large', 'media_type', 'rate', 'queue', 'stopping', 'malformed'];

/** What status and metrics show of one push source (one listener). */
export interface PushSourceStatus {
  /** The link's name. */
  readonly name: string;
  readonly kind: string;
  /** Where it listens or subscribes: `udp 0.0.0.0:5683`, `mqtt://127.0.0.1:1883`. */
  readonly endpoint: string;
  readonly listening: boolean;
  /** Bodies written into the ring (acknowledged where the protocol acknowledges). */
  readonly accepted: number;
  readonly acceptedBytes: number;
  /** Refusals by reason (every reason present, 0 when none). */
  readonly refused: Readonly<Record<PushRefusal, number>>;
  /** Bodies accepted by the gate and waiting for room in the ring now, and the most there were at once. */
  readonly waiting: number;
  readonly waitingPeak: number;
  /** The kind's own counters (node-coap's message cache size, duplicates answered from it …). */
  readonly own: Readonly<Record<string, number>>;
}

export interface PushListenContext {
  readonly ingress: PushIngress;
  readonly clock: Clock;
  readonly log: LevelLog;
}

/** One running push source: a CoAP server socket, an MQTT subscription. */
export interface PushListener {
  /** Binds or subscribes; rejects with a WgError (WG_ERR_HAL_CONNECT for a port another socket holds). */
  start(): Promise<void>;
  /** Stops taking bodies: refuses new ones, waits (briefly) for those being written, then closes. Never rejects. */
  stop(): Promise<void>;
  status(): PushSourceStatus;
}
