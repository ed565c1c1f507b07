/**
 * The serial transport (Modbus RTU on RS-485/RS-232, through an on-board UART or a USB adapter),
 * following the contract in transport.ts, on the `serialport` package.
 *
 * `serialport` is imported on the first `open()`, not with this module: it loads a native binding and
 * costs about 90 ms and 12 to 16 MB of RSS (measured, see docs/serial.md), which a gateway without serial
 * links should not pay.
 *
 * What a serial port changes in the contract (written out in transport.ts): there is no peer that can
 * close the link, since a slave that is switched off is only silence; the link is lost when the port
 * itself goes away (USB adapter unplugged, driver gone), and bytes still inside the adapter then are lost
 * with it. `connectTimeoutMs` bounds opening the device file and setting its line discipline.
 */
import { stat } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import { HalError } from './errors.js';
import { systemClock } from './clock.js';
import { formatDuration } from './duration.js';
import { monotonicTimeout } from './timer.js';
import { DEFAULT_RX_LIMIT_BYTES, RxQueue } from './rx-queue.js';
import type { SerialFraming } from './serial-timing.js';
import type { Transport, TransportCounters, TransportFactory, TransportOptions } from './transport.js';

export type { SerialFraming, SerialParity } from './serial-timing.js';

/**
 * The kernel's RS-485 mode for UARTs that drive the transceiver's direction with RTS (Linux
 * `TIOCSRS485`, `struct serial_rs485`). Not needed, and to be left out, for adapters that switch
 * direction themselves (most USB RS-485 adapters do). Giving it asks the port to be put in that mode;
 * a port that cannot be fails to open, it is never ignored.
 */
export interface SerialRs485Options {
  /** RTS level while sending, `SER_RS485_RTS_ON_SEND` (default true: RTS high drives the line). */
  readonly rtsOnSend?: boolean;
  /** RTS level after sending, `SER_RS485_RTS_AFTER_SEND` (default false). */
  readonly rtsAfterSend?: boolean;
  /** Delay between raising RTS and the first bit, in milliseconds (default 0). */
  readonly delayRtsBeforeSendMs?: number;
  /** Delay between the last bit and dropping RTS, in milliseconds (default 0). */
  readonly delayRtsAfterSendMs?: number;
  /** Keep receiving while sending, `SER_RS485_RX_DURING_TX` (default false: no echo of our own frame). */
  readonly rxDuringTx?: boolean;
}

export interface SerialTransportOptions extends TransportOptions, SerialFraming {
  /** Device file of the port: `/dev/ttyUSB0`, `/dev/serial/by-id/...`, `/dev/ttyAMA0`, `COM3`. */
  readonly path: string;
  /** RS-485 mode settings, where the port's driver offers them (see `SerialRs485Options`). */
  readonly rs485?: SerialRs485Options;
  /**
   * How often an open port checks that its device file is still the one it opened, in milliseconds
   * (default 1 000 ms). On Linux an unplugged USB adapter makes reads return end-of-file, which the
   * serialport binding retries instead of reporting; the device file vanishing is what tells.
   */
  readonly presenceCheckMs?: number;
}

const DEFAULT_PRESENCE_CHECK_MS = 1_000;

/**
 * Why RS-485 mode cannot be set through serialport 13: its bindings (`@serialport/bindings-cpp`) set
 * baud, framing and modem lines only, and have no call for `TIOCSRS485` on any OS.
 */
const RS485_UNSUPPORTED =
  'RS-485 mode is not supported by this port: the serialport binding cannot set it (no TIOCSRS485); ' +
  'leave rs485 out for an adapter that switches direction itself, or enable RS-485 mode in the OS (device tree) before starting';

type SerialPortModule = typeof import('serialport');
let serialportModule: Promise<SerialPortModule> | undefined;

/** `serialport` on first use; one import for the process, like any module. */
function loadSerialport(): Promise<SerialPortModule> {
  serialportModule ??= import('serialport');
  return serialportModule;
}

type LinkState = 'closed' | 'opening' | 'open' | 'lost';

interface PendingWrite {
  resolve(): void;
  reject(error: HalError): void;
}

/** Which file a path named when the port was opened: a re-plugged adapter gets a new node. */
interface DeviceIdentity {
  dev: number;
  ino: number;
}

export class SerialTransport implements Transport {
  readonly device: string;
  readonly #options: SerialTransportOptions;
  readonly #rx: RxQueue;
  readonly #rxLimitBytes: number;
  readonly #counts: TransportCounters = { rxOverflows: 0, rxDiscardedBytes: 0 };
  #state: LinkState = 'closed';
  #port: SerialPort | undefined;
  #lostError: HalError | undefined;
  #writes = new Set<PendingWrite>();
  #presence: NodeJS.Timeout | undefined;
  /** Settles a pending `open()` when `close()` cancels it. */
  #cancelOpen: ((error: HalError) => void) | undefined;

  constructor(options: SerialTransportOptions) {
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
    const { connectTimeoutMs } = this.#options;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error: HalError | undefined, port?: SerialPort): void => {
        if (settled) {
          // The open finished after a timeout or our close gave up on it: release the port again.
          if (port?.isOpen) port.close();
          return;
        }
        settled = true;
        timer.cancel();
        this.#cancelOpen = undefined;
        if (error === undefined && port !== undefined) {
          resolve();
          return;
        }
        if (port?.isOpen) port.close();
        if (error?.code !== 'WG_ERR_HAL_CLOSED') this.#state = 'closed';
        reject(error);
      };
      const timer = monotonicTimeout(systemClock, connectTimeoutMs, () =>
        settle(this.#connectError(`port not open within ${formatDuration(connectTimeoutMs)}`)),
      );
      this.#cancelOpen = (error) => settle(error);
      this.#openPort().then(
        ({ port, identity }) => {
          if (settled) return settle(undefined, port);
          this.#attach(port, identity);
          settle(undefined, port);
        },
        (error: HalError) => settle(error),
      );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.#port;
    if (this.#state === 'lost') return Promise.reject(this.#lostError);
    if (this.#state !== 'open' || port === undefined) return Promise.reject(this.#closedError());
    return new Promise<void>((resolve, reject) => {
      // Tracked here, because a write the stream still buffers gets no callback when the port closes.
      const pending: PendingWrite = { resolve, reject };
      this.#writes.add(pending);
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (cause) => {
        if (!this.#writes.delete(pending)) return; // already failed by close() or the loss
        if (!cause) resolve();
        else reject(this.#lostError ?? this.#lost(cause.message, cause));
      });
    });
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    return this.#rx.read(timeoutMs);
  }

  close(): Promise<void> {
    const port = this.#port;
    const wasState = this.#state;
    this.#state = 'closed';
    this.#detach();
    this.#rx.cancel();
    this.#failWrites(this.#closedError());
    if (wasState === 'opening') this.#cancelOpen?.(this.#closedError());
    if (port === undefined || !port.isOpen) return Promise.resolve();
    return new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async #openPort(): Promise<{ port: SerialPort; identity: DeviceIdentity | undefined }> {
    let module: SerialPortModule;
    try {
      module = await loadSerialport();
    } catch (cause) {
      throw this.#connectError(`the serialport package could not be loaded: ${(cause as Error).message}`, cause as Error);
    }
    if (this.#options.rs485 !== undefined) throw this.#connectError(RS485_UNSUPPORTED);
    const { path, baudRate, dataBits, parity, stopBits } = this.#options;
    const port = new module.SerialPort({
      path,
      baudRate,
      dataBits,
      parity,
      stopBits,
      autoOpen: false,
      lock: true, // an exclusive lock: two gateways (or a gateway and a terminal) on one bus corrupt each other's frames
      rtscts: false,
      xon: false,
      xoff: false,
    });
    // Errors the stream reports outside a callback; the loss itself arrives as 'close'.
    port.on('error', () => {});
    await new Promise<void>((resolve, reject) =>
      port.open((cause) => (cause ? reject(this.#connectError(osReason(cause), cause)) : resolve())),
    );
    return { port, identity: await identify(path) };
  }

  #attach(port: SerialPort, identity: DeviceIdentity | undefined): void {
    this.#port = port;
    this.#state = 'open';
    this.#rx.reset();
    port.on('data', (chunk: Buffer) => {
      if (this.#port !== port) return;
      // A copy: serialport's chunks are views into one shared 64 KiB read pool, which a kept chunk would pin.
      if (!this.#rx.push(Buffer.from(chunk))) this.#overflow(chunk.byteLength);
    });
    port.on('close', (cause: (Error & { disconnected?: boolean }) | null) => {
      if (this.#port !== port || this.#state !== 'open') return; // we closed it
      this.#lost(cause ? `port closed under us: ${osReason(cause)}` : 'port closed under us', cause ?? undefined);
    });
    if (identity === undefined) return; // a name with no device file (Windows COM3): the binding's close must tell
    const everyMs = this.#options.presenceCheckMs ?? DEFAULT_PRESENCE_CHECK_MS;
    this.#presence = setInterval(() => void this.#checkPresence(port, identity), everyMs);
    this.#presence.unref();
  }

  async #checkPresence(port: SerialPort, identity: DeviceIdentity | undefined): Promise<void> {
    const now = await identify(this.#options.path);
    if (this.#port !== port || this.#state !== 'open') return;
    if (now === undefined) this.#lost(`${this.#options.path} is gone (adapter unplugged?)`);
    else if (identity !== undefined && (now.dev !== identity.dev || now.ino !== identity.ino)) {
      this.#lost(`${this.#options.path} is another device now (adapter re-plugged?)`);
    }
  }

  #detach(): void {
    clearInterval(this.#presence);
    this.#presence = undefined;
    this.#port = undefined;
  }

  #lost(detail: string, cause?: Error): HalError {
    const error = new HalError('WG_ERR_HAL_LINK_LOST', { device: this.device, detail: `${this.#options.path}: ${detail}` }, { cause });
    this.#end(error);
    this.#rx.lose(error);
    return error;
  }

  /** The device sent past the limit: close the port now, so no more of its bytes cost memory or CPU. */
  #overflow(chunkBytes: number): void {
    const error = new HalError('WG_ERR_HAL_RX_OVERFLOW', { device: this.device, detail: `${this.#rxLimitBytes} bytes` });
    this.#counts.rxOverflows++;
    this.#counts.rxDiscardedBytes += this.#rx.overflow(error) + chunkBytes;
    this.#end(error);
  }

  #end(error: HalError): void {
    const port = this.#port;
    this.#state = 'lost';
    this.#lostError = error;
    this.#detach();
    this.#failWrites(error);
    if (port?.isOpen) port.close();
  }

  #failWrites(error: HalError): void {
    const writes = [...this.#writes];
    this.#writes.clear();
    for (const pending of writes) pending.reject(error);
  }

  #connectError(detail: string, cause?: Error): HalError {
    return new HalError('WG_ERR_HAL_CONNECT', { device: this.device, detail: `${this.#options.path}: ${detail}` }, { cause });
  }

  #closedError(): HalError {
    return new HalError('WG_ERR_HAL_CLOSED', { device: this.device });
  }
}

/** The OS's words from a serialport error, without the `Error: ` the binding puts in front of them. */
function osReason(error: Error): string {
  return error.message.replace(/^Error:?\s*/, '');
}

async function identify(path: string): Promise<DeviceIdentity | undefined> {
  try {
    const { dev, ino } = await stat(path);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

/** Builds an unopened serial transport. */
export const serialTransport: TransportFactory<SerialTransportOptions> = (options) => new SerialTransport(options);
