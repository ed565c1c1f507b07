/**
 * A serial bus for tests: a socat pty pair with Debian's pymodbus serving RTU slaves on its far end,
 * started and stopped together. `COMMISSIONING_SLAVES` is the bus the commissioning tests read: a
 * slave the gateway polls (unit 1) and two more it does not know (2 and 5).
 */
import { startPymodbusRtuSerial, type PymodbusRtuServer, type RtuUnit } from './pymodbus-rtu.js';
import { startPtyPair } from './pty-pair.js';

export interface RtuBusFixture {
  /** The gateway's end of the line. */
  readonly busPath: string;
  readonly slaves: PymodbusRtuServer;
  stop(): Promise<void>;
}

export const COMMISSIONING_SLAVES: Record<number, RtuUnit> = {
  1: { holding: { 0: [111] } },
  // 0x41a4 0x0000 is float32 20.5 in ABCD: sign 0, exponent 131, mantissa 1.28125.
  2: { holding: { 0: [0x41a4, 0x0000, 7] } },
  5: { holding: { 0: [55, 56, 57] } },
};

export async function startRtuBus(units: Record<number, RtuUnit>, baudRate = 19200, parity: 'none' | 'even' | 'odd' = 'none'): Promise<RtuBusFixture> {
  const pty = await startPtyPair();
  try {
    const slaves = await startPymodbusRtuSerial({ path: pty.peerPath, baudRate, parity, units });
    return {
      busPath: pty.busPath,
      slaves,
      stop: async () => {
        await slaves.stop();
        await pty.stop();
      },
    };
  } catch (err) {
    await pty.stop();
    throw err;
  }
}
