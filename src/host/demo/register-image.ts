/**
 * The memory of a simulated Modbus device: four tables (coils, discrete inputs, input registers,
 * holding registers), each mapped from address 0 up to a limit. An address at or past the limit is
 * unmapped, and a read that touches it is answered with exception 2 (Illegal Data Address), as a
 * real PLC with a smaller map would answer.
 *
 * Addresses are zero-based PDU addresses throughout (what travels in the frame), never the
 * "40001"-style reference numbers some manuals use.
 */
import { WgError } from '../errors.js';

export type ModbusTable = 'coils' | 'discrete' | 'input' | 'holding';
export const MODBUS_TABLES: readonly ModbusTable[] = ['coils', 'discrete', 'input', 'holding'];

/** Every address a Modbus frame can carry (16-bit). */
export const MODBUS_ADDRESS_SPACE = 65_536;

/**
 * Initial contents, by table and start address: `{ holding: { 10: [0x3f80, 0x0000] } }` puts two
 * words at holding registers 10 and 11. The pymodbus test peer takes the same shape.
 */
export interface RegisterContents {
  holding?: Readonly<Record<number, readonly number[]>>;
  input?: Readonly<Record<number, readonly number[]>>;
  coils?: Readonly<Record<number, readonly boolean[]>>;
  discrete?: Readonly<Record<number, readonly boolean[]>>;
}

/** Number of mapped addresses per table, each counted from 0. */
export type TableLimits = Readonly<Record<ModbusTable, number>>;

export class RegisterImage {
  readonly limits: TableLimits;
  #words: Record<'input' | 'holding', Uint16Array>;
  #bits: Record<'coils' | 'discrete', Uint8Array>;

  constructor(limits: TableLimits, contents: RegisterContents = {}) {
    for (const table of MODBUS_TABLES) {
      const limit = limits[table];
      if (!Number.isInteger(limit) || limit < 0 || limit > MODBUS_ADDRESS_SPACE) {
        throw new WgError('WG_ERR_DEMO_PLC_REGISTER', { table, address: 'limit', detail: `limit ${limit} must be a whole number from 0 to ${MODBUS_ADDRESS_SPACE}` });
      }
    }
    this.limits = Object.freeze({ ...limits });
    this.#words = { input: new Uint16Array(limits.input), holding: new Uint16Array(limits.holding) };
    this.#bits = { coils: new Uint8Array(limits.coils), discrete: new Uint8Array(limits.discrete) };
    for (const table of ['input', 'holding'] as const) {
      for (const [start, words] of Object.entries(contents[table] ?? {})) this.writeWords(table, Number(start), words);
    }
    for (const table of ['coils', 'discrete'] as const) {
      for (const [start, bits] of Object.entries(contents[table] ?? {})) this.writeBits(table, Number(start), bits);
    }
  }

  /** True when every address of `[address, address + count)` is mapped in `table`. */
  mapped(table: ModbusTable, address: number, count = 1): boolean {
    return Number.isInteger(address) && address >= 0 && count >= 1 && address + count <= this.limits[table];
  }

  readWords(table: 'input' | 'holding', address: number, count: number): number[] {
    this.#require(table, address, count);
    return Array.from(this.#words[table].subarray(address, address + count));
  }

  /** Writes whole 16-bit words; anything else is refused rather than silently truncated. */
  writeWords(table: 'input' | 'holding', address: number, words: readonly number[]): void {
    this.#require(table, address, words.length);
    const bad = words.findIndex((w) => !Number.isInteger(w) || w < 0 || w > 0xffff);
    if (bad >= 0) throw new WgError('WG_ERR_DEMO_PLC_REGISTER', { table, address: address + bad, detail: `${words[bad]} is not a 16-bit word (0..65535)` });
    this.#words[table].set(words, address);
  }

  readBits(table: 'coils' | 'discrete', address: number, count: number): boolean[] {
    this.#require(table, address, count);
    return Array.from(this.#bits[table].subarray(address, address + count), (b) => b === 1);
  }

  writeBits(table: 'coils' | 'discrete', address: number, bits: readonly boolean[]): void {
    this.#require(table, address, bits.length);
    this.#bits[table].set(bits.map((b) => (b ? 1 : 0)), address);
  }

  #require(table: ModbusTable, address: number, count: number): void {
    if (!this.mapped(table, address, count)) {
      throw new WgError('WG_ERR_DEMO_PLC_REGISTER', { table, address, detail: `${count} address(es) from here are not all mapped (mapped: 0..${this.limits[table] - 1})` });
    }
  }
}
