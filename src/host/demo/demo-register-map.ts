/**
 * The register map of the demo PLC (a small boiler house with one feed pump), as data: the demo
 * pipeline file is written from it, and the simulator's process mode fills the registers from it.
 *
 * | name           | function           | address | type    | order | unit  | scale | what it does                          |
 * |----------------|--------------------|---------|---------|-------|-------|-------|---------------------------------------|
 * | boiler.temp    | 3 holding register | 0       | int16   | ABCD  | degC  | 0.1   | ~65 °C, slow drift + noise, rare spike |
 * | boiler.press   | 3 holding register | 1–2     | float32 | ABCD  | bar   | 1     | ~2.5 bar running, ~1.2 bar stopped     |
 * | feed.flow      | 4 input register   | 0–1     | uint32  | CDAB  | L/h   | 0.01  | ~3600 L/h running, 0 stopped           |
 * | pump.speed     | 4 input register   | 2       | uint16  | ABCD  | rpm   | 1     | ramps to ~1450 rpm / down to 0         |
 * | pump.energy    | 4 input register   | 3–4     | uint32  | ABCD  | kWh   | 0.001 | counter, only ever increases           |
 * | pump.running   | 1 coil             | 0       | bool    |       |       | 1     | the pump command: write 0 to stop it   |
 * | boiler.overtemp| 2 discrete input   | 0       | bool    |       |       | 1     | set while boiler.temp > 80 °C          |
 *
 * Engineering value = raw × scale. Addresses are zero-based PDU addresses. Raw values are chosen so
 * that 32-bit points use both words (flow ≈ 360 000 raw, energy ≈ 12 345 678 raw): a decoder with the
 * wrong word order shows nonsense instead of passing by luck.
 */
import type { RegisterType, WordOrder } from './register-words.js';

/** Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers. */
export type ModbusReadFunction = 1 | 2 | 3 | 4;

export interface DemoRegister {
  /** Point name, as the demo pipeline publishes it. */
  readonly name: string;
  readonly function: ModbusReadFunction;
  /** Zero-based PDU address of the first register or bit. */
  readonly address: number;
  readonly type: RegisterType | 'bool';
  /** Word/byte order of register types; absent for bits. */
  readonly order?: WordOrder;
  /** Engineering unit of raw × scale; absent for bits. */
  readonly unit?: string;
  readonly scale: number;
  readonly description: string;
}

export const DEMO_REGISTER_MAP = [
  { name: 'boiler.temp', function: 3, address: 0, type: 'int16', order: 'ABCD', unit: 'degC', scale: 0.1, description: 'boiler water temperature' },
  { name: 'boiler.press', function: 3, address: 1, type: 'float32', order: 'ABCD', unit: 'bar', scale: 1, description: 'boiler pressure' },
  { name: 'feed.flow', function: 4, address: 0, type: 'uint32', order: 'CDAB', unit: 'L/h', scale: 0.01, description: 'feed water flow' },
  { name: 'pump.speed', function: 4, address: 2, type: 'uint16', order: 'ABCD', unit: 'rpm', scale: 1, description: 'feed pump motor speed' },
  { name: 'pump.energy', function: 4, address: 3, type: 'uint32', order: 'ABCD', unit: 'kWh', scale: 0.001, description: 'feed pump energy counter' },
  { name: 'pump.running', function: 1, address: 0, type: 'bool', scale: 1, description: 'feed pump command and state; write false to stop the pump' },
  { name: 'boiler.overtemp', function: 2, address: 0, type: 'bool', scale: 1, description: 'over-temperature alarm (boiler.temp above 80 °C)' },
] as const satisfies readonly DemoRegister[];

export type DemoPointName = (typeof DEMO_REGISTER_MAP)[number]['name'];
