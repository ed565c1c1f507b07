/**
 * When each device of a pipeline polls for the first time. Started together, every device of a
 * pipeline polled at the same instant, every interval: the answers came back as one burst, which the
 * chain, the outbox and the uplink then worked through one poll after the other, so the last poll
 * of the burst waited for all the others (at 1 k points/s in the Node-RED harness, 10 devices, the
 * median reading waited about 3 ms for its turn; bench/harness-load.bench.ts). Spread over the
 * interval instead, each poll meets an idle pipeline, and a shared link sees its transactions evenly.
 *
 * Device `index` of `count` starts `index / count` of the way into its interval, or into one second
 * for intervals longer than that, so a gateway with hour-long intervals still takes its first
 * readings within a second of starting.
 */
const SPREAD_CAP_MS = 1_000;

export function pollPhaseMs(index: number, count: number, intervalMs: number): number {
  if (count <= 1 || index <= 0) return 0;
  return Math.floor((Math.min(intervalMs, SPREAD_CAP_MS) * index) / count);
}
