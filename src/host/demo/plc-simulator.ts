/**
 * An embedded Modbus TCP PLC for the zero-setup demo and for tests, built on modbus-serial's
 * `ServerTCP`. It serves coils (FC 1), discrete inputs (FC 2), holding registers (FC 3) and input
 * registers (FC 4), accepts writes (FC 5, 6, 15, 16), answers exception 2 (Illegal Data Address) for
 * addresses past each table's limit, and can be told to stop answering or to drop connections.
 *
 * Two modes:
 * - `process`: the demo. A boiler-and-pump process (boiler-process.ts) refreshes the registers of
 *   DEMO_REGISTER_MAP every 100 ms; coil 0 is the pump command, so a rule that writes it stops the pump.
 * - `fixed`: tests. Registers hold exactly what the test sets and nothing moves.
 */
import { createServer } from 'node:net';
import { ServerTCP, type IServiceVector } from 'modbus-serial';
import { WgError } from '../errors.js';
import { BoilerProcess } from './boiler-process.js';
import { DEMO_REGISTER_MAP } from './demo-register-map.js';
import { MODBUS_ADDRESS_SPACE, RegisterImage, type ModbusTable, type RegisterContents } from './register-image.js';
import { encodeWords } from './register-words.js';

/**
 * How the simulator reacts to a request: `answer` normally; `ignore` counts it and never replies (the
 * client's timeout fires); `disconnect` counts it and drops every open connection instead of replying.
 */
export type PlcResponseMode = 'answer' | 'ignore' | 'disconnect';

export interface PlcSimulatorOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; absent or 0 picks a free one (read it back from `port`). */
  port?: number;
  /** Unit id to answer; requests for other ids get no reply. Default: answer every unit id. */
  unitId?: number;
  mode: 'process' | 'fixed';
  /** Initial contents. In process mode the process overwrites the points of DEMO_REGISTER_MAP. */
  registers?: RegisterContents;
  /** Mapped addresses per table, from 0. Default 65 536 (everything) in fixed mode, 100 in process mode. */
  limits?: Partial<Record<ModbusTable, number>>;
  /** Process mode: PRNG seed of the simulated noise and drift. Default 1. */
  seed?: number;
  /** Process mode: refresh period in ms. Default 100. */
  tickMs?: number;
  /** Initial response mode. Default `answer`. */
  responseMode?: PlcResponseMode;
  /**
   * Called for every register read (FC 3, 4) that is about to be answered, before the registers are
   * read: a test sets a register here to the number of polls so far, so every answer carries a number
   * no other poll got and a reading missing downstream is visible without the gateway's own counters.
   */
  beforeRead?: (table: 'input' | 'holding', address: number, count: number) => void;
}

const DEFAULT_HOST = '127.0.0.1';
const ALL_UNITS = 255; // modbus-serial's "answer every unit id"
const PROCESS_LIMIT = 100; // a real PLC maps a small block; past it the demo answers exception 2
const DEFAULT_TICK_MS = 100;
const PORT_ATTEMPTS = 5;
const PUMP_COIL = 0;

/** The shape modbus-serial's server turns into an exception response (it reads `modbusErrorCode`). */
class ModbusExceptionReply extends Error {
  readonly modbusErrorCode: number;
  constructor(code: number, detail: string) {
    super(detail);
    this.modbusErrorCode = code;
  }
}
const ILLEGAL_DATA_ADDRESS = 2;

/** A promise that never settles: modbus-serial then never writes a reply. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

export class PlcSimulator {
  readonly host: string;
  #port = 0;
  #image: RegisterImage;
  #server: ServerTCP | undefined;
  #timer: NodeJS.Timeout | undefined;
  #responseMode: PlcResponseMode;
  #beforeRead: PlcSimulatorOptions['beforeRead'];
  #requests = 0;
  #bitRequestOpen = false;
  #closed: Promise<void> | undefined;

  private constructor(image: RegisterImage, host: string, responseMode: PlcResponseMode) {
    this.#image = image;
    this.host = host;
    this.#responseMode = responseMode;
  }

  /** The bound TCP port. */
  get port(): number {
    return this.#port;
  }

  /** Modbus requests received (reads and writes, answered or not). Frames modbus-serial drops itself (wrong unit id, bad length) are not counted. */
  get requests(): number {
    return this.#requests;
  }

  /** Client connections open right now. */
  get connections(): number {
    return this.#server?.socks.size ?? 0;
  }

  setHolding(address: number, words: readonly number[]): void {
    this.#image.writeWords('holding', address, words);
  }

  setInput(address: number, words: readonly number[]): void {
    this.#image.writeWords('input', address, words);
  }

  setCoil(address: number, value: boolean): void {
    this.#image.writeBits('coils', address, [value]);
  }

  setDiscrete(address: number, value: boolean): void {
    this.#image.writeBits('discrete', address, [value]);
  }

  /** What a client wrote (or the test set): holding registers `[address, address + count)`. */
  readHolding(address: number, count: number): number[] {
    return this.#image.readWords('holding', address, count);
  }

  readCoil(address: number): boolean {
    return this.#image.readBits('coils', address, 1)[0] === true;
  }

  setResponseMode(mode: PlcResponseMode): void {
    this.#responseMode = mode;
  }

  /** Drops every open client connection now, as a PLC reboot or a cut cable would. */
  dropConnections(): void {
    for (const socket of this.#server?.socks.keys() ?? []) socket.destroy();
  }

  /** Stops the timer, closes the listener and every connection. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      clearInterval(this.#timer);
      const server = this.#server;
      if (!server) return resolve();
      server.close(() => resolve());
    });
    return this.#closed;
  }

  /** See startPlcSimulator. */
  static async start(options: PlcSimulatorOptions): Promise<PlcSimulator> {
    const fallback = options.mode === 'process' ? PROCESS_LIMIT : MODBUS_ADDRESS_SPACE;
    const limits = { coils: fallback, discrete: fallback, input: fallback, holding: fallback, ...options.limits };
    const image = new RegisterImage(limits, options.registers);
    const simulator = new PlcSimulator(image, options.host ?? DEFAULT_HOST, options.responseMode ?? 'answer');
    simulator.#beforeRead = options.beforeRead;
    if (options.mode === 'process') {
      if (options.registers?.coils?.[PUMP_COIL] === undefined) image.writeBits('coils', PUMP_COIL, [true]); // the demo starts with the pump running
      const boiler = new BoilerProcess(options.seed ?? 1);
      const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
      simulator.#refresh(boiler, tickMs);
      simulator.#timer = setInterval(() => simulator.#refresh(boiler, tickMs), tickMs);
      simulator.#timer.unref();
    }
    await simulator.#listen(options);
    return simulator;
  }

  async #listen(options: PlcSimulatorOptions): Promise<void> {
    const unitId = options.unitId ?? ALL_UNITS;
    const explicit = options.port !== undefined && options.port !== 0;
    for (let attempt = 1; ; attempt++) {
      let port = options.port ?? 0;
      try {
        if (!explicit) port = await freePort(this.host);
        this.#server = await listen(this.#vector(), this.host, port, unitId);
        this.#port = port;
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (explicit || code !== 'EADDRINUSE' || attempt === PORT_ATTEMPTS) {
          clearInterval(this.#timer);
          throw new WgError('WG_ERR_DEMO_PLC_LISTEN', { detail: `${this.host}:${port}: ${(error as Error).message}` }, { cause: error });
        }
      }
    }
  }

  /** Steps the process one tick and writes every point of the demo map into the image. */
  #refresh(boiler: BoilerProcess, tickMs: number): void {
    const pump = this.#image.readBits('coils', PUMP_COIL, 1)[0] === true;
    const readings = boiler.step(tickMs / 1000, pump);
    for (const point of DEMO_REGISTER_MAP) {
      const value = readings[point.name];
      if (point.type === 'bool') {
        if (point.function === 2) this.#image.writeBits('discrete', point.address, [value === true]);
        continue; // coils are commands: clients and tests write them, the process only reads them
      }
      const raw = (value as number) / point.scale;
      const words = encodeWords(point.type, point.order, point.type === 'float32' ? raw : Math.round(raw));
      this.#image.writeWords(point.function === 3 ? 'holding' : 'input', point.address, words);
    }
  }

  /**
   * The callbacks ServerTCP calls. modbus-serial picks callback, promise or plain-value style by each
   * function's arity, so every one here takes at most two parameters (value/promise style): a thrown
   * ModbusExceptionReply becomes an exception response, and a never-settling promise means "no reply".
   */
  #vector(): IServiceVector {
    const words = (table: 'input' | 'holding', address: number, count: number): Array<number | Promise<number>> => {
      this.#requests++;
      if (this.#silenced()) return Array.from({ length: count }, () => never<number>());
      this.#requireMapped(table, address, count);
      this.#beforeRead?.(table, address, count);
      return this.#image.readWords(table, address, count);
    };
    const bit = (table: 'coils' | 'discrete', address: number): boolean | Promise<boolean> => {
      this.#countBitRequest();
      if (this.#silenced()) return never<boolean>();
      this.#requireMapped(table, address, 1);
      return this.#image.readBits(table, address, 1)[0] === true;
    };
    const write = (address: number, values: readonly number[]): void | Promise<void> => {
      this.#requests++;
      if (this.#silenced()) return never<void>();
      this.#requireMapped('holding', address, values.length);
      this.#image.writeWords('holding', address, values);
    };
    const vector = {
      getHoldingRegister: (address: number) => words('holding', address, 1)[0],
      getMultipleHoldingRegisters: (address: number, count: number) => words('holding', address, count),
      getInputRegister: (address: number) => words('input', address, 1)[0],
      getMultipleInputRegisters: (address: number, count: number) => words('input', address, count),
      getCoil: (address: number) => bit('coils', address),
      getDiscreteInput: (address: number) => bit('discrete', address),
      setRegister: (address: number, value: number) => write(address, [value]),
      setRegisterArray: (address: number, values: number[]) => write(address, values),
      setCoil: (address: number, value: boolean): void | Promise<void> => {
        this.#countBitRequest();
        if (this.#silenced()) return never<void>();
        this.#requireMapped('coils', address, 1);
        this.#image.writeBits('coils', address, [value]);
      },
    };
    // The d.ts types each callback as a union of whole function types; ours mix values and pending
    // promises, which the runtime accepts (it awaits anything thenable) but the union cannot express.
    return vector as unknown as IServiceVector;
  }

  /** Applies the response mode; true when this request must get no reply. */
  #silenced(): boolean {
    if (this.#responseMode === 'disconnect') this.dropConnections();
    return this.#responseMode !== 'answer';
  }

  #requireMapped(table: ModbusTable, address: number, count: number): void {
    if (!this.#image.mapped(table, address, count)) {
      throw new ModbusExceptionReply(ILLEGAL_DATA_ADDRESS, `${table} ${address}+${count} not mapped`);
    }
  }

  /**
   * ServerTCP calls the bit callbacks once per bit, all in one synchronous loop per request, and runs
   * each request in its own timer callback; so the first call before the next microtask checkpoint
   * starts a new request.
   */
  #countBitRequest(): void {
    if (this.#bitRequestOpen) return;
    this.#bitRequestOpen = true;
    this.#requests++;
    queueMicrotask(() => {
      this.#bitRequestOpen = false;
    });
  }
}

/**
 * Starts a simulator and resolves once it accepts connections.
 * @throws WgError WG_ERR_DEMO_PLC_LISTEN when it cannot listen; WG_ERR_DEMO_PLC_REGISTER for limits or
 *   initial registers out of range.
 */
export function startPlcSimulator(options: PlcSimulatorOptions): Promise<PlcSimulator> {
  return PlcSimulator.start(options);
}

/**
 * ServerTCP cannot listen on port 0: it passes `options.port || 502` to net, so 0 becomes 502, and
 * it keeps its net.Server private. So we bind a throwaway server to port 0, read the port the OS chose,
 * close it and pass that port on. Another process could take the port in between; start() then sees
 * EADDRINUSE and tries a fresh port.
 */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function listen(vector: IServiceVector, host: string, port: number, unitId: number): Promise<ServerTCP> {
  return new Promise((resolve, reject) => {
    const server = new ServerTCP(vector, { host, port, unitID: unitId, debug: false });
    const failed = (error: Error): void => {
      server.close(() => reject(error));
    };
    server.once('serverError', failed);
    server.once('initialized', () => {
      server.off('serverError', failed);
      // A client that resets its connection is routine for a PLC; nothing to report.
      server.on('socketError', () => undefined);
      server.on('serverError', () => undefined);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}
