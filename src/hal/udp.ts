/**
 * The UDP transport (BACnet/IP, later CoAP), following the contract in transport.ts as a datagram
 * link: one `write()` is one datagram, one `read()` returns one datagram.
 *
 * `open()` binds the socket (`bindAddress`, `bindPort`: 0 asks the OS for a free port). With a peer
 * (`host`, `port`) the socket is also connected to it, so `write()` sends there and the OS delivers
 * only the peer's datagrams (a device's answers, and what it sends unasked: an I-Am, a COV
 * notification). Without one it is a listener: `write()` refuses, `sendTo()` names each destination,
 * and `receive()` says who sent each datagram. `broadcast: true` lets `sendTo()` reach a broadcast
 * address (a Who-Is); without it the OS refuses one, which `sendTo()` reports as `WG_ERR_HAL_SEND`.
 *
 * What the contract's words mean for UDP:
 * - "connect" is binding (and connecting to the peer's address, which sends nothing): a port another
 *   socket holds, an address that is not ours, a host name that does not resolve is `WG_ERR_HAL_CONNECT`.
 * - There is no connection to lose. A device that is off or unplugged is silence (`WG_ERR_HAL_TIMEOUT`);
 *   the ICMP "port unreachable" a connected socket may get back is silence too, not a lost link (a
 *   device rebooting answers again a second later). `WG_ERR_HAL_LINK_LOST` is the socket itself
 *   failing under us, which a machine losing its address can cause.
 * - A datagram the OS refuses to send (too large, no route, a broadcast without `broadcast: true`)
 *   is `WG_ERR_HAL_SEND`; the link stays open, since the next datagram may go.
 * - `rxLimitBytes` counts datagrams queued while no read takes them, as on any link.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { HalError } from './errors.js';
import { systemClock } from './clock.js';
import { formatDuration } from './duration.js';
import { monotonicTimeout } from './timer.js';
import { DEFAULT_RX_LIMIT_BYTES, RxQueue } from './rx-queue.js';
import type { Datagram, DatagramTransport, TransportCounters, TransportOptions } from './transport.js';

export interface UdpTransportOptions extends TransportOptions {
  /** The peer: the device's address and port. Both or neither; without them the transport is a listener. */
  readonly host?: string;
  readonly port?: number;
  /** Local address to bind (default: every IPv4 address, `0.0.0.0`; `::` for IPv6). */
  readonly bindAddress?: string;
  /** Local port to bind (default 0: a free port the OS picks; BACnet/IP's own is 47808). */
  readonly bindPort?: number;
  /** Allows `sendTo()` to a broadcast address (default false). */
  readonly broadcast?: boolean;
  /** Lets other sockets bind the same port (SO_REUSEADDR), as BACnet tools on one box do (default false). */
  readonly reuseAddress?: boolean;
}

type LinkState = 'closed' | 'opening' | 'open' | 'lost';

export class UdpTransport implements DatagramTransport {
  readonly device: string;
  readonly #options: UdpTransportOptions;
  readonly #rx: RxQueue;
  readonly #rxLimitBytes: number;
  readonly #counts: TransportCounters = { rxOverflows: 0, rxDiscardedBytes: 0 };
  /** Who sent each queued datagram: the queue hands back the very buffer it was given. */
  readonly #senders = new WeakMap<Uint8Array, { address: string; port: number }>();
  #state: LinkState = 'closed';
  #socket: Socket | undefined;
  #lostError: HalError | undefined;
  #cancelOpen: ((error: HalError) => void) | undefined;

  constructor(options: UdpTransportOptions) {
    if ((options.host === undefined) !== (options.port === undefined)) throw new TypeError('a UDP peer needs both host and port');
    this.device = options.device;
    this.#options = options;
    this.#rxLimitBytes = options.rxLimitBytes ?? DEFAULT_RX_LIMIT_BYTES;
    this.#rx = new RxQueue(options.device, 'datagram', this.#rxLimitBytes);
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get queuedBytes(): number {
    return this.#rx.queuedBytes;
  }

  /** The address and port the socket is bound to while open (the port the OS picked for `bindPort: 0`). */
  get local(): { address: string; port: number } | undefined {
    if (this.#state !== 'open' || this.#socket === undefined) return undefined;
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  counters(): TransportCounters {
    return { ...this.#counts };
  }

  open(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'opening') return Promise.reject(this.#connectError(`already ${this.#state}`));
    this.#state = 'opening';
    this.#lostError = undefined;
    const { host, port, connectTimeoutMs, bindPort = 0, reuseAddress = false } = this.#options;
    const ipv6 = (this.#options.bindAddress !== undefined && isIP(this.#options.bindAddress) === 6) || (host !== undefined && isIP(host) === 6);
    const bindAddress = this.#options.bindAddress ?? (ipv6 ? '::' : '0.0.0.0');
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', reuseAddr: reuseAddress });
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      const settle = (error: HalError | undefined): void => {
        timer.cancel();
        socket.off('error', onError);
        this.#cancelOpen = undefined;
        if (error === undefined) return resolve();
        socket.close();
        if (this.#socket === socket) this.#socket = undefined;
        if (error.code !== 'WG_ERR_HAL_CLOSED') this.#state = 'closed';
        reject(error);
      };
      const onError = (cause: Error): void => settle(this.#connectError(cause.message, cause));
      const timer = monotonicTimeout(systemClock, connectTimeoutMs, () => settle(this.#connectError(`not bound within ${formatDuration(connectTimeoutMs)}`)));
      this.#cancelOpen = settle;
      socket.once('error', onError);
      socket.bind({ port: bindPort, address: bindAddress }, () => {
        if (this.#socket !== socket) return;
        try {
          if (this.#options.broadcast === true) socket.setBroadcast(true);
        } catch (cause) {
          return settle(this.#connectError((cause as Error).message, cause as Error));
        }
        if (host === undefined || port === undefined) {
          this.#attach(socket);
          return settle(undefined);
        }
        socket.connect(port, host, (cause?: Error) => {
          if (this.#socket !== socket) return;
          if (cause) return settle(this.#connectError(cause.message, cause));
          this.#attach(socket);
          settle(undefined);
        });
      });
    });
  }

  /** One datagram to the peer; a listener has none and refuses (use `sendTo`). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#options.host === undefined && this.#state === 'open') {
      return Promise.reject(new HalError('WG_ERR_HAL_SEND', { device: this.device, detail: 'no peer: a listener sends with sendTo()' }));
    }
    return this.#send(bytes);
  }

  sendTo(bytes: Uint8Array, host: string, port: number): Promise<void> {
    if (this.#options.host !== undefined && this.#state === 'open') {
      return Promise.reject(new HalError('WG_ERR_HAL_SEND', { device: this.device, detail: `connected to ${this.#options.host}:${this.#options.port}; send to it with write()` }));
    }
    return this.#send(bytes, host, port);
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    return this.#rx.read(timeoutMs);
  }

  async receive(timeoutMs: number): Promise<Datagram> {
    const bytes = await this.#rx.read(timeoutMs);
    const from = this.#senders.get(bytes) ?? { address: this.#options.host ?? '', port: this.#options.port ?? 0 };
    return { bytes, ...from };
  }

  close(): Promise<void> {
    const socket = this.#socket;
    const wasState = this.#state;
    this.#state = 'closed';
    this.#socket = undefined;
    this.#rx.cancel();
    if (wasState === 'opening') this.#cancelOpen?.(this.#closedError());
    if (socket === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed by the OS side
      }
    });
  }

  #send(bytes: Uint8Array, host?: string, port?: number): Promise<void> {
    const socket = this.#socket;
    if (this.#state === 'lost') return Promise.reject(this.#lostError);
    if (this.#state !== 'open' || socket === undefined) return Promise.reject(this.#closedError());
    return new Promise<void>((resolve, reject) => {
      const done = (cause: Error | null): void => {
        if (!cause) return resolve();
        if (this.#state === 'closed' || this.#socket !== socket) return reject(this.#closedError());
        if (this.#state === 'lost') return reject(this.#lostError);
        reject(new HalError('WG_ERR_HAL_SEND', { device: this.device, detail: `${host ?? this.#options.host}:${port ?? this.#options.port}: ${cause.message}` }, { cause }));
      };
      try {
        if (host === undefined) socket.send(bytes, done);
        else socket.send(bytes, port, host, done);
      } catch (cause) {
        done(cause as Error);
      }
    });
  }

  #attach(socket: Socket): void {
    this.#state = 'open';
    this.#rx.reset();
    socket.on('message', (message: Buffer, from) => {
      if (this.#socket !== socket) return;
      // A plain view of the same bytes: a caller compares and slices it as a Uint8Array, not a Buffer.
      const datagram = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
      this.#senders.set(datagram, { address: from.address, port: from.port });
      if (!this.#rx.push(datagram)) this.#overflow(datagram.byteLength);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#socket !== socket || this.#state !== 'open') return;
      // The ICMP answer to a datagram for a port nobody holds: the device is not there right now.
      if (error.code === 'ECONNREFUSED') return;
      this.#lost(error.message, error);
    });
  }

  #lost(detail: string, cause?: Error): void {
    const error = new HalError('WG_ERR_HAL_LINK_LOST', { device: this.device, detail }, { cause });
    this.#state = 'lost';
    this.#lostError = error;
    this.#release();
    this.#rx.lose(error);
  }

  /** More queued than the link holds: drop the socket, so no more of these datagrams cost memory or CPU. */
  #overflow(datagramBytes: number): void {
    const error = new HalError('WG_ERR_HAL_RX_OVERFLOW', { device: this.device, detail: `${this.#rxLimitBytes} bytes` });
    this.#counts.rxOverflows++;
    this.#counts.rxDiscardedBytes += this.#rx.overflow(error) + datagramBytes;
    this.#state = 'lost';
    this.#lostError = error;
    this.#release();
  }

  #release(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    try {
      socket?.close();
    } catch {
      // closed already
    }
  }

  #connectError(detail: string, cause?: Error): HalError {
    const { host, port, bindAddress, bindPort = 0 } = this.#options;
    const where = host !== undefined ? `${host}:${port}` : `listen ${bindAddress ?? '0.0.0.0'}:${bindPort}`;
    return new HalError('WG_ERR_HAL_CONNECT', { device: this.device, detail: `${where}: ${detail}` }, { cause });
  }

  #closedError(): HalError {
    return new HalError('WG_ERR_HAL_CLOSED', { device: this.device });
  }
}

/** Builds an unopened UDP transport. */
export const udpTransport = (options: UdpTransportOptions): UdpTransport => new UdpTransport(options);
