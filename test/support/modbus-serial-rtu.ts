/**
 * modbus-serial's ServerSerial (node_modules/modbus-serial/servers/serverserial.js) as a second,
 * independent Modbus RTU peer on a serial port, the peer end of a socat pty pair. It serves one unit id
 * with holding and input registers the test sets, and runs in the test's own process.
 *
 * ServerSerial's own ways, read from its source (8.0.25): a frame is what arrives before a 30 ms pause
 * (its inter-byte timeout parser), so a request must arrive in one burst; it does not check the CRC of a
 * request; a register it is not given reads as 0; it ignores other unit ids (no answer).
 */
import modbusSerial from 'modbus-serial';
import type { SerialParity } from '../../src/hal/serial-timing.js';

// CommonJS with `module.exports.default = module.exports`: under NodeNext the default import is the module.
const { ServerSerial } = modbusSerial.default as unknown as { ServerSerial: typeof import('modbus-serial').ServerSerial };

const OPEN_WITHIN_MS = 5_000;

export interface ModbusSerialRtuOptions {
  /** The port ServerSerial opens: the peer end of a pty pair. */
  path: string;
  /** The one unit id it answers (1..247). */
  unitId: number;
  /** Default 9600 baud, even parity (the framing is a setting only on a pty; see pty-pair.ts). */
  baudRate?: number;
  parity?: SerialParity;
  /** Zero-based address -> words, for function 3 and function 4. */
  holding?: Record<number, number[]>;
  input?: Record<number, number[]>;
}

export interface ModbusSerialRtuServer {
  /** Requests for our unit id that reached the register callbacks (one per register read). */
  readonly registerReads: number;
  setHolding(address: number, words: number[]): void;
  /** Closes the port; resolves once it is closed. */
  stop(): Promise<void>;
}

function table(initial: Record<number, number[]> = {}): Map<number, number> {
  const words = new Map<number, number>();
  for (const [start, values] of Object.entries(initial)) values.forEach((w, i) => words.set(Number(start) + i, w));
  return words;
}

export function startModbusSerialRtu(options: ModbusSerialRtuOptions): Promise<ModbusSerialRtuServer> {
  const holding = table(options.holding);
  const input = table(options.input);
  let registerReads = 0;
  const read = (words: Map<number, number>) => (address: number) => {
    registerReads++;
    return words.get(address) ?? 0;
  };
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`ServerSerial did not open ${options.path} within ${OPEN_WITHIN_MS} ms`)), OPEN_WITHIN_MS);
    const server = new ServerSerial(
      { getHoldingRegister: read(holding), getInputRegister: read(input) },
      {
        path: options.path,
        baudRate: options.baudRate ?? 9600,
        parity: options.parity ?? 'even',
        unitID: options.unitId,
        openCallback: (error: Error | null) => {
          clearTimeout(deadline);
          if (error) return reject(new Error(`ServerSerial could not open ${options.path}: ${error.message}`));
          resolve({
            get registerReads() {
              return registerReads;
            },
            setHolding(address, words) {
              words.forEach((w, i) => holding.set(address + i, w));
            },
            stop: () => new Promise<void>((done) => server.close(() => done())),
          });
        },
      } as ConstructorParameters<typeof ServerSerial>[1],
    );
    // ServerSerial re-emits request errors; a test sees them as missing answers, not as a crash.
    server.on('error', () => {});
  });
}
