/**
 * What the daemon needs from an uplink: start it, publish to it, watch it, close it. MQTT implements
 * it now (mqtt.ts); CoAP comes later behind the same shape, and `test/sinks/sink.contract.ts` holds
 * every implementation to it.
 *
 * Errors are `WgError` values with `context.uplink` set to the sink's name:
 * `WG_ERR_UPLINK_CONNECT` when no connection could be made, `WG_ERR_UPLINK_PUBLISH` when one message
 * could not be delivered.
 */
import type { WgError } from '../errors.js';

/**
 * - `offline`: not connected; either `start()` was not called yet or the sink waits to retry.
 * - `connecting`: a connection attempt is under way.
 * - `connected`: the peer accepted us; publishes go out at once.
 * - `closed`: `close()` was called; nothing more goes out.
 */
export type SinkState = 'connecting' | 'connected' | 'offline' | 'closed';

export type SinkQos = 0 | 1;

/** What the outbox knows of a message, for the sink to mark it with on the wire (message-mark.ts). */
export interface MessageStamp {
  /** The gateway's sequence number of the message (outbox-store.ts). */
  readonly seq: number;
  /** Wall time the message was made, ms since the epoch. */
  readonly createdAtMs: number;
  /**
   * The outbox's verdict: the message was already waiting when the connection that carries it came up
   * (a backlog, judged by seq, not by the clock). The sink adds its own: a message that waited in the
   * sink for a connection is a replay too.
   */
  readonly replay?: boolean;
}

export interface SinkPublishOptions {
  /** Delivery guarantee for this message; defaults to the sink's configured QoS. */
  readonly qos?: SinkQos;
  /** Ask the peer to keep this message as the topic's last value (default false). */
  readonly retain?: boolean;
  /**
   * The message's seq and creation time. When given, the sink marks the message with them as its
   * `mark` setting says, at the moment it is written: its seq, and whether it is a replay (made before
   * the connection that carries it was established, see message-mark.ts).
   */
  readonly stamp?: MessageStamp;
}

/** Called with the sink's new state each time it changes. */
export type SinkStateListener = (state: SinkState) => void;

/** Monotonic counters since construction, plus `queued`, a gauge. */
export interface SinkCounters {
  /** Calls to `publish()`. Each ends up counted once in `acked` or `failed`, or is still queued or in flight. */
  readonly published: number;
  /** Publishes that resolved: QoS 1 acknowledged by the peer, QoS 0 written to the connection. */
  readonly acked: number;
  /** Publishes that rejected. */
  readonly failed: number;
  /** Reconnection attempts made after a connection was lost or refused. */
  readonly reconnects: number;
  /** Messages waiting for a connection right now. */
  readonly queued: number;
  /** Stamped messages that could not carry their seq (`mark: fields` on a payload that is not a JSON object). */
  readonly unmarked: number;
  /** Stamped messages written as replays: made before the connection that carried them (message-mark.ts). */
  readonly replayed: number;
}

export interface Sink {
  /** The uplink name from the gateway file, carried in every error and log line. */
  readonly name: string;
  readonly state: SinkState;
  /**
   * Wall time (ms since the epoch) the current connection was established (MQTT: the CONNACK; CoAP: the
   * first exchange that succeeded after one was lost); undefined while not `connected`.
   */
  readonly connectedSinceMs: number | undefined;
  /** Calls `listener` on every change of `state`; returns the function that stops it. */
  onStateChange(listener: SinkStateListener): () => void;
  /** The last connection problem, kept until the next successful connection, for status output. */
  readonly lastError: WgError | undefined;
  counters(): SinkCounters;

  /** Messages accepted but not yet delivered (queued for a connection, or written and not yet acknowledged). */
  backlog(): number;

  /**
   * Puts what `publish` handed to the connection on the wire now, where the transport would hold it
   * until the end of this turn (MQTT.js corks its stream until the next tick): the outbox calls it
   * after offering a batch, before the batch's sync to disk blocks the turn. Optional.
   */
  flushWrites?(): void;

  /**
   * Resolves once the backlog is below `limit` (at once if it is), or when the sink closes. Callers
   * that produce messages wait on it rather than let an unreachable or slow uplink grow memory.
   */
  whenBacklogBelow(limit: number): Promise<void>;

  /**
   * Begins connecting and keeps reconnecting in the background for the sink's whole life, with
   * back-off. Never throws and never blocks; call once.
   */
  start(): void;

  /**
   * Resolves once connected (at once if already). Rejects with `WG_ERR_UPLINK_CONNECT` when
   * `timeoutMs` passes first, when the peer refuses us (bad credentials do not fix themselves; the
   * sink still retries in the background), or when the sink is closed. Retries continue either way.
   */
  waitConnected(timeoutMs: number): Promise<void>;

  /**
   * Sends one message. While not connected, messages wait in memory, in publish order, and go out
   * when the connection returns; order is kept across QoS levels. Resolves when QoS 1 is
   * acknowledged by the peer or QoS 0 is written to the connection. Rejects with
   * `WG_ERR_UPLINK_PUBLISH` when the sink is closed before that, when the offline queue is full, when
   * the peer rejects the message, or (QoS 0 only) when the connection drops before it was written;
   * with `WG_ERR_UPLINK_REFUSED` when the peer refused this message for good (a CoAP 4.xx, an MQTT 5
   * PUBACK reason code of 0x80 or more), so that it must not be sent again.
   *
   * The sink keeps a reference to `payload` until the promise settles: do not modify it before then.
   */
  publish(topic: string, payload: Uint8Array | string, options?: SinkPublishOptions): Promise<void>;

  /**
   * Stops the sink: new publishes reject, in-flight QoS 1 messages get up to `timeoutMs` to be
   * acknowledged, then the connection is ended cleanly (forced if the time ran out) and whatever is
   * still unsent or unacknowledged rejects with `WG_ERR_UPLINK_PUBLISH`. Never rejects; idempotent.
   */
  close(timeoutMs?: number): Promise<void>;
}
