/**
 * A PLC (the demo's simulator, fixed mode) whose holding registers 0-1 count the polls it answered:
 * each read of them first stores the next number (uint32, big-endian words), so every poll's reading
 * carries a number no other poll got. The PLC records when it answered each number; a number missing
 * at the subscriber is a reading taken and lost, told without the gateway's own seq or counters.
 */
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ReceivedMessage } from './mqtt-subscriber.js';

export interface CountingPlc {
  readonly port: number;
  /** Wall time (ms) each poll number was answered, by number (from 1). */
  readonly answeredAt: ReadonlyMap<number, number>;
  /** The last number answered (0 before the first poll). */
  last(): number;
  /** Numbers answered in the wall-time range [fromMs, toMs]. */
  answeredBetween(fromMs: number, toMs: number): number[];
  close(): Promise<void>;
}

export async function startCountingPlc(): Promise<CountingPlc> {
  const answeredAt = new Map<number, number>();
  let count = 0;
  let plc: PlcSimulator | undefined;
  plc = await startPlcSimulator({
    mode: 'fixed',
    beforeRead: (table, address) => {
      if (table !== 'holding' || address !== 0) return;
      count++;
      answeredAt.set(count, Date.now());
      plc!.setHolding(0, [count >>> 16, count & 0xffff]);
    },
  });
  return {
    port: plc.port,
    answeredAt,
    last: () => count,
    answeredBetween: (fromMs, toMs) => [...answeredAt].filter(([, at]) => at >= fromMs && at <= toMs).map(([n]) => n),
    close: () => plc!.close(),
  };
}

/** The pipeline that polls the counter (point `polls`, uint32) and publishes each reading as JSON. */
export function countingPipeline(plcPort: number, intervalMs: number, topic = 'plant/{point}'): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: ${intervalMs}ms, timeout: 2s, retries: 0, points: [{ name: polls, function: 3, address: 0, type: uint32 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "${topic}" }
`;
}

/** One reading as the json step wrote it: the poll number (null when the poll got no answer) and when it was taken. */
export interface CountedReading {
  readonly value: number | null;
  readonly ts: number;
  readonly quality: string;
}

export function readingOf(payload: Buffer | string): CountedReading {
  const json = JSON.parse(payload.toString()) as { value: number | null; ts: number; quality: string };
  return { value: json.value, ts: json.ts, quality: json.quality };
}

export function readingsOf(messages: readonly ReceivedMessage[]): CountedReading[] {
  return messages.map((m) => readingOf(m.payload));
}

/** The numbers of `expected` that no reading carries, in order. */
export function missingNumbers(expected: readonly number[], readings: readonly CountedReading[]): number[] {
  const seen = new Set(readings.map((r) => r.value));
  return expected.filter((n) => !seen.has(n));
}

/**
 * Whether the first arrival of each number comes in increasing order (a duplicate sent again after a
 * crash is at-least-once, allowed; a number that first arrives after a later one is a reordering).
 * Returns the first pair out of order, or undefined.
 */
export function firstOutOfOrder(readings: readonly CountedReading[]): [number, number] | undefined {
  const seen = new Set<number>();
  let previous = 0;
  for (const { value } of readings) {
    if (value === null || seen.has(value)) continue;
    seen.add(value);
    if (value < previous) return [previous, value];
    previous = value;
  }
  return undefined;
}
