/**
 * Where a sample's time goes inside the gateway, stage by stage (docs/metrics.md,
 * wasmgate_pipeline_stage_seconds): the wait in the ingress ring until the worker takes the batch
 * (its wake-up included), the chain's call, and the wait in the egress ring until the main thread
 * drains it. With the device's round trip before and the outbox's hand-over → acknowledgement after,
 * they make the read → broker path. One histogram observation per batch or drain, not per sample.
 */
import { LatencyHistogram, STAGE_BOUNDS_MS, type LatencySnapshot } from '../metrics/latency-histogram.js';

/** The two stages the worker times; posted with its counters (every tick). */
export interface WorkerStages {
  /** Oldest record of a batch: its commit into the ingress ring → the worker acquiring it. */
  ingressWait: LatencySnapshot;
  /** The chain's call on one batch, decoder to encoder, rules included. */
  chain: LatencySnapshot;
}

export interface PipelineStages extends WorkerStages {
  /** Oldest message of a drain: its commit into the egress ring → the main thread reading it. */
  egressWait: LatencySnapshot;
}

export class WorkerStageClock {
  readonly ingressWait = new LatencyHistogram(STAGE_BOUNDS_MS);
  readonly chain = new LatencyHistogram(STAGE_BOUNDS_MS);

  snapshot(): WorkerStages {
    return { ingressWait: this.ingressWait.snapshot(), chain: this.chain.snapshot() };
  }
}

/** What a pipeline reports before its worker's first counters arrive. */
export function noWorkerStages(): WorkerStages {
  const empty = new LatencyHistogram(STAGE_BOUNDS_MS).snapshot();
  return { ingressWait: empty, chain: empty };
}
