/**
 * The HAL transport contract: how the host moves raw bytes to and from one field device link.
 * This file holds only types and their contracts; `tcp.ts`, `serial.ts` and `udp.ts` implement it, and `test/hal/transport.contract.ts` checks every implementation against it.
 *
 * Higher layers (poll scheduler, Modbus client) take a `Transport` as a parameter and never learn
 * which kind it is. They branch on `WgError.code`, never on message text:
 *
 * | code                   | meaning                                                               |
 * |------------------------|-----------------------------------------------------------------------|
 * | `WG_ERR_HAL_CLOSED`    | cancelled because *we* closed the transport (or it was never opened). |
 * |                        | Not a fault: do not count it, do not reconnect.                       |
 * | `WG_ERR_HAL_LINK_LOST` | the link broke under us (peer closed, reset, cable pulled). The       |
 * |                        | transport is no longer open; call `open()` again to re-establish it.  |
 * | `WG_ERR_HAL_CONNECT`   | `open()` could not establish the link (refused, unreachable, no such  |
 * |                        | device, or no link within `connectTimeoutMs`).                        |
 * | `WG_ERR_HAL_TIMEOUT`   | `read()` saw no byte within its timeout. The link stays open and      |
 * |                        | bytes that arrive later are kept for the next read.                   |
 * | `WG_ERR_HAL_RX_OVERFLOW` | the device sent more than `rxLimitBytes` while no read took it: no  |
 * |                        | answer is that long, so the transport discarded what it held, counted |
 * |                        | it (`counters()`), and ended the link as if lost. `open()` again.     |
 * | `WG_ERR_HAL_SEND`      | a datagram link (UDP) could not send one datagram (no route, too      |
 * |                        | large, a broadcast not allowed). The link stays open.                 |
 *
 * Every such error carries `context.device` (the `device` option, the name the operator gave the
 * device in the gateway file) and, except for `WG_ERR_HAL_CLOSED`, a `context.detail` with the
 * OS reason or the timeout; the underlying OS error, when there is one, is the `cause`.
 *
 * What the words mean on a serial link (serial.ts), where one port is the link to a whole bus:
 * - "connect" is opening the port: `WG_ERR_HAL_CONNECT` for no such device, permission denied, the
 *   port locked by another program, framing or RS-485 settings the port refuses. `connectTimeoutMs`
 *   bounds opening the device file and setting its line discipline, which normally takes
 *   milliseconds; it says nothing about whether any slave on the bus is there (only a read can).
 * - "link lost" is the port going away (USB adapter unplugged, driver unloaded). A slave that stops
 *   answering or is switched off is silence (`WG_ERR_HAL_TIMEOUT`), never a lost link. Bytes still
 *   inside an adapter that goes away are lost with it; bytes the transport had received are
 *   delivered first, as on any link.
 */

/** Settings every transport kind takes. */
export interface TransportOptions {
  /** Name of the device this link serves, as written in the gateway file; used in every error. */
  readonly device: string;
  /** How long `open()` may take before it fails with `WG_ERR_HAL_CONNECT`, in milliseconds. */
  readonly connectTimeoutMs: number;
  /**
   * The most received bytes the link holds while no `read()` takes them, in bytes (default 65 536, the
   * largest datagram IP can carry, so larger than any frame of any field protocol). A caller that knows
   * its protocol's largest frame (260 bytes for Modbus TCP) may set that. Past it, the link ends with
   * `WG_ERR_HAL_RX_OVERFLOW`, so a device that streams without being asked cannot grow the gateway's memory.
   */
  readonly rxLimitBytes?: number;
}

/** What a transport counts over its whole life, across reconnects. */
export interface TransportCounters {
  /** Times the link was ended because the device sent past `rxLimitBytes`. */
  rxOverflows: number;
  /** Received bytes thrown away by those overflows (what was queued plus the chunk that overflowed). */
  rxDiscardedBytes: number;
}

/** Settings of the IP transports (TCP now, UDP later): where the device listens. */
export interface NetTransportOptions extends TransportOptions {
  /** Host name or IP address of the device. */
  readonly host: string;
  /** TCP or UDP port of the device (Modbus TCP: 502, BACnet/IP: 47808). */
  readonly port: number;
}

/**
 * One link to one field device: a TCP connection, a serial port, or a UDP socket bound to a peer.
 *
 * Ordering and queueing: received bytes are delivered in the order they arrived. Bytes that arrive
 * while no `read()` is pending are queued inside the transport and delivered by the next reads,
 * never dropped, until the transport is closed by us (`close()` discards them) or the queue would
 * pass `rxLimitBytes` (then the queue is discarded, counted, and the link ends with
 * `WG_ERR_HAL_RX_OVERFLOW`). When the link is lost, bytes received before the loss are still
 * delivered first; only then do reads fail with `WG_ERR_HAL_LINK_LOST`.
 *
 * Ownership: the transport keeps no reference to a buffer it returned from `read()`; the caller owns
 * it and may modify or keep it. A buffer given to `write()` is read by the transport until the
 * returned promise settles; the caller must not modify it before then.
 */
export interface Transport {
  /** The device name from the options, for logs and errors. */
  readonly device: string;

  /**
   * `true` between a successful `open()` and either `close()` or the loss of the link.
   * It turns `false` as soon as the transport notices the link is gone.
   */
  readonly isOpen: boolean;

  /**
   * Received bytes waiting for a `read()`. Lets a caller see that a late answer has arrived (and
   * decide to drain it) without consuming it.
   */
  readonly queuedBytes: number;

  /** A snapshot of the counters (see `TransportCounters`). */
  counters(): TransportCounters;

  /**
   * Establishes the link. Resolves when bytes can be written and read. Starts with an empty receive
   * queue, so it may be called again after `close()` or after the link was lost to re-establish it.
   *
   * Rejects with `WG_ERR_HAL_CONNECT` when the link cannot be established within
   * `connectTimeoutMs` (refused, unreachable, no such device, already open), and with
   * `WG_ERR_HAL_CLOSED` when `close()` is called while it is still opening.
   */
  open(): Promise<void>;

  /**
   * Sends `bytes` to the device. For a stream link (TCP, serial) the bytes may reach the device in
   * several pieces; for a datagram link (UDP) one call sends exactly one datagram. Resolves when the
   * bytes have been handed to the operating system, not when the device has them.
   *
   * Rejects with `WG_ERR_HAL_CLOSED` if the transport is not open or is closed before the bytes
   * were handed over, and with `WG_ERR_HAL_LINK_LOST` (or the `WG_ERR_HAL_RX_OVERFLOW` that ended it)
   * if the link is or becomes lost.
   */
  write(bytes: Uint8Array): Promise<void>;

  /**
   * Resolves with the next received bytes, at least one byte. A stream link returns everything
   * received and not yet read, in one buffer (chunk boundaries mean nothing); a datagram link
   * returns exactly one datagram. Several pending reads are served in call order.
   *
   * Rejects with `WG_ERR_HAL_TIMEOUT` (`detail`: the timeout) when nothing arrives within
   * `timeoutMs` milliseconds (`Infinity` waits without limit); with `WG_ERR_HAL_CLOSED` when the
   * transport is not open or `close()` is called while the read is pending; with
   * `WG_ERR_HAL_LINK_LOST` when the link is lost and no received byte is left to deliver; with
   * `WG_ERR_HAL_RX_OVERFLOW` when the link ended because the device sent past `rxLimitBytes`.
   */
  read(timeoutMs: number): Promise<Uint8Array>;

  /**
   * Closes the link and releases the OS resource. Pending reads and writes fail with
   * `WG_ERR_HAL_CLOSED`; queued received bytes are discarded. Idempotent: closing a closed, lost
   * or never-opened transport resolves at once. Never rejects.
   */
  close(): Promise<void>;
}

/** One received datagram and who sent it. */
export interface Datagram {
  /** The datagram's bytes; the caller owns them, as with `read()`. */
  readonly bytes: Uint8Array;
  /** The sender's IP address and port, as the OS reports them. */
  readonly address: string;
  readonly port: number;
}

/**
 * A datagram link (UDP): a `Transport` whose `write()` sends one datagram to its peer and whose `read()`
 * returns one, plus what a link without connections can do: send to any address (a broadcast), and
 * say who sent what it received (an answer to a broadcast, a notification nobody asked for).
 *
 * `receive()` is `read()` with the sender: the two take from the same queue, in arrival order, with the
 * same timeouts and errors. `sendTo()` rejects, like `write()`, with `WG_ERR_HAL_CLOSED` or the error
 * that ended the link, and with `WG_ERR_HAL_SEND` when the OS refuses that one datagram.
 */
export interface DatagramTransport extends Transport {
  /** The address and port the link is bound to, while open. */
  readonly local: { readonly address: string; readonly port: number } | undefined;
  sendTo(bytes: Uint8Array, host: string, port: number): Promise<void>;
  receive(timeoutMs: number): Promise<Datagram>;
}

/** Builds an unopened transport of one kind from its settings. */
export type TransportFactory<O extends TransportOptions = TransportOptions> = (options: O) => Transport;
