// The plugin's side of the memory-ownership rules: one input region the host writes into, one output
// region the plugin writes its result into, and the pointer wg_output() reports.

let inputPtr: usize = 0;
let inputCap: i32 = 0;
let outputPtr: usize = 0;
let outputCap: i32 = 0;
let resultPtr: usize = 0;

function grow(ptr: usize, cap: i32, need: i32, keep: i32): usize {
  let size = cap > 0 ? cap : 4096;
  while (size < need) size <<= 1;
  const fresh = heap.alloc(<usize>size);
  if (keep > 0) memory.copy(fresh, ptr, <usize>keep);
  return fresh;
}

/** ABI export: a region of at least `size` bytes for the host to write into. */
export function wg_input(size: i32): usize {
  if (size > inputCap) {
    let cap = inputCap > 0 ? inputCap : 4096;
    while (cap < size) cap <<= 1;
    inputPtr = grow(inputPtr, inputCap, cap, 0);
    inputCap = cap;
  }
  return inputPtr;
}

/** ABI export: where the output of the last data call starts. */
export function wg_output(): usize {
  return resultPtr;
}

/** Where the host wrote the current call's input. */
@inline export function input(): usize {
  return inputPtr;
}

/** Ensures the output region holds `need` bytes, keeping the first `keep`; returns its (maybe moved) start. */
export function reserveOutput(need: i32, keep: i32): usize {
  if (need > outputCap) {
    let cap = outputCap > 0 ? outputCap : 4096;
    while (cap < need) cap <<= 1;
    outputPtr = grow(outputPtr, outputCap, cap, keep);
    outputCap = cap;
  }
  return outputPtr;
}

/** Declares where this call's output starts (the output region, the input region for in-place work...). */
@inline export function setResult(ptr: usize): void {
  resultPtr = ptr;
}
