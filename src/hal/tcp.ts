/**
 * The TCP transport (Modbus TCP and other request/response protocols over a TCP connection),
 * following the contract in transport.ts.
 */
import { Socket } from 'node:net';
import { HalError } from './errors.js';
import { systemClock } from './clock.js';
import { formatDuration } from './duration.js';
import { monotonicTimeout } from './timer.js';
import { DEFAULT_RX_LIMIT_BYTES, RxQueue } from './rx-queue.js';
import type { NetTransportOptions, Transport, TransportCounters, TransportFactory } from './transport.js';

export interface TcpTransportOptions extends NetTransportOptions {
  /**
   * Idle time before the OS starts TCP keepalive probes, in milliseconds (default 10 000 ms). Between
   * slow polls a PLC that lost power leaves a half-open connection; probes find it before the next
   * request has to time out.
   */
  readonly keepAliveMs?: number;
}

const DEFAULT_KEEPALIVE_MS = 10_000;

type LinkState = 'closed' | 'opening' | 'open' | 'lost';

export class TcpTransport implements Transport {
  readonly device: string;
  readonly #options: TcpTransportOptions;
  readonly #rx: RxQueue;
  readonly #rxLimitBytes: number;
  readonly #counts: TransportCounters = { rxOverflows: 0, rxDiscardedBytes: 0 };
  #state: LinkState = 'closed';
  #socket: Socket | undefined;
  #lostError: HalError | undefined;
  /** Settles a pending `open()` when `close()` cancels it. */
  #cancelOpen: ((error: HalError) => void) | undefined;

  constructor(options: TcpTransportOptions) {
    this.device = options.device;
    this.#options = options;
    this.#rxLimitBytes = options.rxLimitBytes ?? DEFAULT_RX_LIMIT_BYTES;
    this.#rx = new RxQueue(options.device, 'stream', this.#rxLimitBytes);
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get queuedBytes(): number {
    return this.#rx.queuedBytes;
  }

  counters(): TransportCounters {
    return { ...this.#counts };
  }

  open(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'opening') {
      return Promise.reject(this.#connectError(`already ${this.#state}`));
    }
    this.#state = 'opening';
    this.#lostError = undefined;
    const { host, port, connectTimeoutMs } = this.#options;
    const socket = new Socket();
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      const settle = (error: HalError | undefined): void => {
        timer.cancel();
        socket.off('connect', onConnect);
        socket.off('error', onError);
        this.#cancelOpen = undefined;
        if (error === undefined) {
          resolve();
          return;
        }
        socket.destroy();
        if (this.#socket === socket) this.#socket = undefined;
        if (error.code !== 'WG_ERR_HAL_CLOSED') this.#state = 'closed';
        reject(error);
      };
      const onConnect = (): void => {
        this.#attach(socket);
        settle(undefined);
      };
      const onError = (cause: Error): void => settle(this.#connectError(cause.message, cause));
      const timer = monotonicTimeout(systemClock, connectTimeoutMs, () =>
        settle(this.#connectError(`no connection within ${formatDuration(connectTimeoutMs)}`)),
      );
      this.#cancelOpen = settle;
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.connect({ host, port });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (this.#state === 'lost') return Promise.reject(this.#lostError);
    if (this.#state !== 'open' || socket === undefined) return Promise.reject(this.#closedError());
    return new Promise<void>((resolve, reject) => {
      socket.write(bytes, (cause) => {
        if (!cause) resolve();
        // Our close() destroys the socket under a pending write: that is a cancellation, not a fault.
        else if (this.#state === 'closed' || this.#socket !== socket) reject(this.#closedError());
        else reject(this.#lostError ?? this.#lost(cause.message, cause));
      });
    });
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    return this.#rx.read(timeoutMs);
  }

  close(): Promise<void> {
    const socket = this.#socket;
    const wasState = this.#state;
    this.#state = 'closed';
    this.#socket = undefined;
    this.#rx.cancel();
    if (wasState === 'opening') this.#cancelOpen?.(this.#closedError());
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  #attach(socket: Socket): void {
    socket.setNoDelay(true); // requests are small and latency-bound; Nagle would hold them back
    socket.setKeepAlive(true, this.#options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS);
    this.#state = 'open';
    this.#rx.reset();
    let reason = 'peer closed the connection';
    let cause: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (!this.#rx.push(chunk)) this.#overflow(chunk.byteLength);
    });
    socket.on('error', (error: Error) => {
      reason = error.message;
      cause = error;
    });
    socket.on('close', () => {
      if (this.#socket !== socket || this.#state !== 'open') return; // we closed it
      this.#lost(reason, cause);
    });
  }

  #lost(detail: string, cause?: Error): HalError {
    const error = new HalError('WG_ERR_HAL_LINK_LOST', { device: this.device, detail }, { cause });
    this.#state = 'lost';
    this.#lostError = error;
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#rx.lose(error);
    return error;
  }

  /** The device sent past the limit: drop the socket now, so no more of its bytes cost memory or CPU. */
  #overflow(chunkBytes: number): void {
    const error = new HalError('WG_ERR_HAL_RX_OVERFLOW', { device: this.device, detail: `${this.#rxLimitBytes} bytes` });
    this.#counts.rxOverflows++;
    this.#counts.rxDiscardedBytes += this.#rx.overflow(error) + chunkBytes;
    this.#state = 'lost';
    this.#lostError = error;
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connectError(detail: string, cause?: Error): HalError {
    const { host, port } = this.#options;
    return new HalError('WG_ERR_HAL_CONNECT', { device: this.device, detail: `${host}:${port}: ${detail}` }, { cause });
  }

  #closedError(): HalError {
    return new HalError('WG_ERR_HAL_CLOSED', { device: this.device });
  }
}

/** Builds an unopened TCP transport. */
export const tcpTransport: TransportFactory<TcpTransportOptions> = (options) => new TcpTransport(options);
