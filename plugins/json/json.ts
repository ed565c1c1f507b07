// json: the encoder that turns sample batches into JSON messages for the uplink. Three shapes (one
// message per sample, per point bucket of aggregates, or one array per batch), renameable keys, epoch or
// ISO timestamps, full-precision or rounded numbers. Everything constant is made at configure time
// (fragments.ts); per batch the plugin only copies bytes and writes digits, without allocating.
import { input, sampleCount, heapBytes, heapAt, OK, BAD_SETTINGS, BAD_INPUT, BATCH_HEADER, SAMPLE_SIZE } from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { readOptions, WORDS, SLOTS, W_WITH, W_POINTS, W_DEVICES, KEY_PIPELINE } from "./options";
import { buildFragments } from "./fragments";
import { useTextHeap } from "./objects";
import { encodeBatch, finish } from "./encode";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

/** Positions of the settings document's members, one slot per word of WORDS. */
const top = memory.data(SLOTS);

@inline function member(w: i32): usize {
  return <usize>load<u32>(top + (<usize>w << 2));
}

export function wg_configure(size: i32): i32 {
  const c = new JsonCursor(input(), input() + <usize>size);
  c.members(c.root, WORDS, top);
  if (!readOptions(c, member(W_WITH))) return BAD_SETTINGS;
  buildFragments(c, member(KEY_PIPELINE), member(W_POINTS), member(W_DEVICES));
  return OK;
}

export function wg_process(size: i32): i32 {
  const batch = input(); // the input region holds at least 4 KB, so the header reads are safe
  const n = sampleCount(batch);
  const heap = heapBytes(batch);
  if (<u64>BATCH_HEADER + <u64>n * SAMPLE_SIZE + <u64>heap > <u64>size) return BAD_INPUT;
  useTextHeap(heapAt(batch));
  return encodeBatch(batch + BATCH_HEADER, n, <u32>heap) ? finish() : BAD_INPUT;
}
