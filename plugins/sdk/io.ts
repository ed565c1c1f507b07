// The plugin's side of the memory-ownership rules: one input region the host writes into, one output
// region the plugin writes its result into, and the pointer wg_output() reports.
//
// Both regions are safe at any size the host can ask for (docs/plugin-abi.md, "wg_input"): a region
// grows to what is asked, at least doubling so a steadily growing input costs few growths, and never
// past MAX_REGION (grownCapacity, regrow: the SDK's writers grow their buffers the same way). The
// region it replaces is given back first, so the stub allocator (which frees only its last block)
// puts the new one in the same place whenever nothing was allocated after it.
// A size the region cannot take, or a growth of memory the host refuses, is logged and then traps:
// the ABI's wg_input must succeed or trap, and the host contains the trap.
import { lineStart, lineText, lineUtf8, lineNumber, lineLog } from "./log-line";
import { utf8 } from "./utf8";
import { ERROR } from "./log";

/** The largest region: the stub allocator's largest block (2^30 less its 4-byte header), rounded down to 16. */
export const MAX_REGION: i32 = (1 << 30) - 16;

let inputPtr: usize = 0;
let inputCap: i32 = 0;
let outputPtr: usize = 0;
let outputCap: i32 = 0;
let resultPtr: usize = 0;

/**
 * The capacity that replaces `cap` to hold `need` bytes: at least double, at most MAX_REGION, never
 * overflowing; `need` itself when no region can hold it (regrow then refuses it). For any buffer a
 * plugin grows, so that it grows the way the SDK's regions do.
 */
export function grownCapacity(cap: i32, need: i32): i32 {
  if (<u32>need > <u32>MAX_REGION) return need;
  // cap <= MAX_REGION < 2^30: doubling it cannot overflow.
  const doubled = cap < 2048 ? 4096 : min(cap, MAX_REGION >> 1) << 1;
  return max(need, min(doubled, MAX_REGION));
}

/** Logs why `what` cannot have `size` bytes ("input region of 2147483647 bytes: ..."), then traps. */
function refuse(what: string, size: i32, tooLarge: bool): void {
  lineStart();
  lineText(what);
  lineUtf8(utf8(" of "));
  lineNumber(size);
  if (tooLarge) {
    lineUtf8(utf8(" bytes: more than a region can hold ("));
    lineNumber(MAX_REGION);
    lineUtf8(utf8(" bytes)"));
  } else {
    lineUtf8(utf8(" bytes: the host refused to grow memory"));
  }
  lineLog(ERROR);
  unreachable();
}

/**
 * A fresh block of `size` bytes for the `what` region. Memory is grown here, before the allocator
 * needs it, so that a refused growth is logged instead of trapping silently inside the allocator.
 */
function block(what: string, size: i32): usize {
  if (<u32>size > <u32>MAX_REGION) refuse(what, size, true);
  // Where the next block starts: the stub allocator hands out its top and takes a block back only
  // when it is the last, so allocating nothing and freeing it finds the top without moving it. (The
  // probe takes 16 bytes: were even those refused, the allocator would trap without the line.)
  const probe = heap.alloc(0);
  heap.free(probe);
  const end = <u64>probe + <u64>size + 32; // block header and alignment included
  const have = <u64>memory.size() << 16;
  if (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) refuse(what, size, false);
  return heap.alloc(<usize>size);
}

/**
 * The block that replaces `ptr` (0: none yet) to hold `cap` bytes, with the first `keep` bytes of the
 * old one; the old block is given back. `what` names the buffer in the line logged when the block
 * cannot be had (then it traps). With the stub allocator, a block that nothing was allocated after
 * is reused in place when nothing is kept.
 */
export function regrow(what: string, ptr: usize, cap: i32, keep: i32): usize {
  if (keep <= 0 || ptr == 0) {
    if (ptr != 0) heap.free(ptr);
    return block(what, cap);
  }
  const fresh = block(what, cap);
  memory.copy(fresh, ptr, <usize>keep);
  heap.free(ptr);
  return fresh;
}

/** ABI export: a region of at least `size` bytes for the host to write into. */
export function wg_input(size: i32): usize {
  // Unsigned: a negative size is a write of 2 GiB or more, which no region holds.
  if (inputPtr == 0 || <u32>size > <u32>inputCap) {
    const cap = grownCapacity(inputCap, size);
    // The host rewrites the whole input for every call: nothing in the old region is kept.
    inputPtr = regrow("input region", inputPtr, cap, 0);
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
    const cap = grownCapacity(outputCap, need);
    outputPtr = regrow("output region", outputPtr, cap, outputPtr == 0 ? 0 : min(keep, outputCap));
    outputCap = cap;
  }
  return outputPtr;
}

/** Declares where this call's output starts (the output region, the input region for in-place work...). */
@inline export function setResult(ptr: usize): void {
  resultPtr = ptr;
}
