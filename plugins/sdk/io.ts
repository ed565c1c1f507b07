// The plugin's side of the memory-ownership rules: one input region the host writes into, one output
// region the plugin writes its result into, and the pointer wg_output() reports.
//
// Both regions are safe at any size the host can ask for (docs/plugin-abi.md, "wg_input"): a region
// grows to what is asked, at least doubling so a steadily growing input costs few growths, and never
// past MAX_REGION. The region it replaces is given back first, so the stub allocator (which frees
// only its last block) puts the new one in the same place whenever nothing was allocated after it.
// A size the region cannot take, or a growth of memory the host refuses, is logged and then traps:
// the ABI's wg_input must succeed or trap, and the host contains the trap.
import { lineStart, lineText, lineNumber, lineLog } from "./log-line";
import { ERROR } from "./log";

/** The largest region: the stub allocator's largest block (2^30 less its header), rounded down to 16. */
export const MAX_REGION: i32 = (1 << 30) - 16;

let inputPtr: usize = 0;
let inputCap: i32 = 0;
let outputPtr: usize = 0;
let outputCap: i32 = 0;
let resultPtr: usize = 0;

/** The capacity that replaces `cap` to hold `need` bytes; `need` itself when no region can hold it. */
function capacityFor(cap: i32, need: i32): i32 {
  if (<u32>need > <u32>MAX_REGION) return need;
  // cap <= MAX_REGION < 2^30: doubling it cannot overflow.
  const doubled = cap < 2048 ? 4096 : min(cap, MAX_REGION >> 1) << 1;
  return max(need, min(doubled, MAX_REGION));
}

/** Logs why the `what` region cannot hold `size` bytes, then traps. */
function refuse(what: string, size: i32, why: string): void {
  lineStart();
  lineText(what);
  lineText(" region of ");
  lineNumber(size);
  lineText(" bytes: ");
  lineText(why);
  lineLog(ERROR);
  unreachable();
}

/**
 * A fresh block of `size` bytes for the `what` region. Memory is grown here, before the allocator
 * needs it, so that a refused growth is logged instead of trapping silently inside the allocator.
 */
function region(what: string, size: i32): usize {
  if (<u32>size > <u32>MAX_REGION) refuse(what, size, "more than a region can hold (1073741808 bytes)");
  // Where the next block starts: the stub allocator hands out its top and takes a block back only
  // when it is the last, so allocating nothing and freeing it finds the top without moving it.
  const probe = heap.alloc(0);
  heap.free(probe);
  const end = <u64>probe + <u64>size + 32; // block header and alignment included
  const have = <u64>memory.size() << 16;
  if (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) refuse(what, size, "the host refused to grow memory");
  return heap.alloc(<usize>size);
}

/** ABI export: a region of at least `size` bytes for the host to write into. */
export function wg_input(size: i32): usize {
  // Unsigned: a negative size is a write of 2 GiB or more, which no region holds.
  if (inputPtr == 0 || <u32>size > <u32>inputCap) {
    const cap = capacityFor(inputCap, size);
    // The host rewrites the whole input for every call: nothing in the old region is kept.
    if (inputPtr != 0) heap.free(inputPtr);
    inputPtr = region("input", cap);
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
  if (outputPtr == 0 || <u32>need > <u32>outputCap) {
    const cap = capacityFor(outputCap, need);
    const old = outputPtr;
    if (keep <= 0 && old != 0) heap.free(old);
    const fresh = region("output", cap);
    if (keep > 0 && old != 0) {
      memory.copy(fresh, old, <usize>min(keep, outputCap));
      heap.free(old);
    }
    outputPtr = fresh;
    outputCap = cap;
  }
  return outputPtr;
}

/** Declares where this call's output starts (the output region, the input region for in-place work...). */
@inline export function setResult(ptr: usize): void {
  resultPtr = ptr;
}
