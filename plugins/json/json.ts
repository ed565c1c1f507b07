// json: the encoder that turns sample batches into JSON messages for the uplink. Three shapes (one
// message per sample, per point bucket of aggregates, or one array per batch), renameable keys, epoch or
// ISO timestamps, full-precision or rounded numbers. Everything constant is made at configure time
// (fragments.ts); per batch the plugin only copies bytes and writes digits, without allocating.
import { input, sampleCount, heapBytes, heapAt, OK, BAD_SETTINGS, BAD_INPUT, BATCH_HEADER, SAMPLE_SIZE } from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { readOptions } from "./options";
import { buildFragments } from "./fragments";
import { useTextHeap } from "./objects";
import { encodeBatch, finish } from "./encode";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// The members of the settings document json reads, in the order of DOCUMENT_MEMBERS.
const DOCUMENT_MEMBERS = "with points devices pipeline";
const D_WITH = 0;
const D_POINTS = 1;
const D_DEVICES = 2;
const D_PIPELINE = 3;
/** Position of each member's value in the document (0: absent). */
const top = memory.data(4 * 4);

@inline function member(m: i32): usize {
  return <usize>load<u32>(top + (<usize>m << 2));
}

export function wg_configure(size: i32): i32 {
  const c = new JsonCursor(input(), input() + <usize>size);
  c.members(c.root, DOCUMENT_MEMBERS, top);
  if (!readOptions(c, member(D_WITH))) return BAD_SETTINGS;
  buildFragments(c, member(D_PIPELINE), member(D_POINTS), member(D_DEVICES));
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
