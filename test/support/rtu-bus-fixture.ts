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

/**
 * The pipeline the commissioning tests run on such a bus: device `tank` (unit 1, one holding register
 * `level`) polled every 50 ms on bus `rs485` at 19200 8N1, plus `moreSources` (YAML lines under
 * `source:`, indented two spaces), published as JSON to uplink `cloud`.
 */
export function tankPipelineYaml(name: string, busPath: string, moreSources = ''): string {
  return `pipeline: { name: ${name} }
source:
  modbus_rtu:
    buses:
      - name: rs485
        port: ${busPath}
        baud: 19200
        parity: none
        devices:
          - { name: tank, unit_id: 1, interval: 50ms, timeout: 500ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
${moreSources}steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}
