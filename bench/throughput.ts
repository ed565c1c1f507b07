/** Items per second of `step` (which handles one batch of `itemsPerBatch`): warm-up, then best of three runs of `runMs`. */
export function throughput(itemsPerBatch: number, step: () => void, runMs = 1500): number {
  for (let i = 0; i < 200; i++) step();
  let best = 0;
  for (let run = 0; run < 3; run++) {
    let batches = 0;
    const start = performance.now();
    let now = start;
    while (now - start < runMs) {
      for (let i = 0; i < 50; i++) step();
      batches += 50;
      now = performance.now();
    }
    best = Math.max(best, (batches * itemsPerBatch) / ((now - start) / 1000));
  }
  return best;
}
