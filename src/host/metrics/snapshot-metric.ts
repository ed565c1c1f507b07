/**
 * A Prometheus metric whose samples are read from one status snapshot per scrape, rather than kept
 * in prom-client's own counters: the gateway already counts everything in its status (the control
 * socket's `status` shows the same numbers), so a scrape copies them and nothing is counted twice.
 * prom-client formats the text and adds the process metrics; a snapshot metric is any object with
 * `name`, `help`, `type` and `get()`, which is all its registry asks of a metric.
 */
import type { GatewayStatus } from '../gateway.js';
import type { LatencySnapshot } from './latency-histogram.js';

export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  /** For a histogram's `_bucket`, `_sum` and `_count` lines. */
  readonly metricName?: string;
}

export interface MetricDefinition {
  /** Counters end in `_total`, units are base units (`_seconds`, `_bytes`, `_ratio`). */
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  samples(status: GatewayStatus): Sample[];
}

export class SnapshotMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricDefinition['type'];
  readonly #definition: MetricDefinition;
  readonly #snapshot: () => GatewayStatus;

  constructor(definition: MetricDefinition, snapshot: () => GatewayStatus) {
    this.name = definition.name;
    this.help = definition.help;
    this.type = definition.type;
    this.#definition = definition;
    this.#snapshot = snapshot;
  }

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' } {
    return { name: this.name, help: this.help, type: this.type, values: this.#definition.samples(this.#snapshot()), aggregator: 'sum' };
  }
}

/** A latency histogram (ms) as Prometheus histogram lines in seconds: cumulative buckets, +Inf, sum, count. */
export function histogramSamples(name: string, labels: Labels, h: LatencySnapshot): Sample[] {
  return [
    ...h.boundsMs.map((bound, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le: bound / 1000 }, value: h.counts[i]! })),
    { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count },
    { metricName: `${name}_sum`, labels, value: h.sumMs / 1000 },
    { metricName: `${name}_count`, labels, value: h.count },
  ];
}
