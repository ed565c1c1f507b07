/**
 * Copies of the last few inputs of each step: what a swap's canary run feeds the new version of a step
 * (canary.ts), so it is judged on this pipeline's real batches rather than on a made-up probe. Buffers
 * are reused, so keeping them costs one copy per step and batch, not an allocation.
 */

/** Inputs kept per step: enough to see a decoder's every request kind on a small device, few enough to run in a blink. */
export const RECENT_INPUTS = 4;

export class RecentInputs {
  #buffers: Uint8Array[][];
  #lengths: number[][];
  #next: number[];

  constructor(steps: number) {
    this.#buffers = Array.from({ length: steps }, () => []);
    this.#lengths = Array.from({ length: steps }, () => []);
    this.#next = new Array<number>(steps).fill(0);
  }

  /** Keeps a copy of `input`, the batch step `step` is about to get. */
  keep(step: number, input: Uint8Array): void {
    const slot = this.#next[step]!;
    this.#next[step] = (slot + 1) % RECENT_INPUTS;
    let buffer = this.#buffers[step]![slot];
    if (!buffer || buffer.byteLength < input.byteLength) {
      buffer = new Uint8Array(Math.max(256, input.byteLength * 2));
      this.#buffers[step]![slot] = buffer;
    }
    buffer.set(input);
    this.#lengths[step]![slot] = input.byteLength;
  }

  /** Copies of step `step`'s kept inputs, oldest first. */
  of(step: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const buffers = this.#buffers[step]!;
    for (let k = 0; k < RECENT_INPUTS; k++) {
      const slot = (this.#next[step]! + k) % RECENT_INPUTS;
      const buffer = buffers[slot];
      if (buffer) out.push(buffer.slice(0, this.#lengths[step]![slot]));
    }
    return out;
  }
}
