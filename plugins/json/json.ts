// json: the encoder that turns sample batches into JSON messages for the uplink. Three shapes (one
// message per sample, per point bucket of aggregates, or one array per batch), renameable keys, epoch or
// ISO timestamps, full-precision or rounded numbers. Everything constant is escaped at configure time
// (fragments.ts); per batch the plugin only copies bytes and writes digits, without allocating.
import {
  NO_POINT, input, sampleCount, heapBytes, heapAt, sampleAt, type, textOffset, textLength,
  OK, BAD_SETTINGS, BAD_INPUT, TYPE_TEXT, BATCH_HEADER, SAMPLE_SIZE,
} from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { readOptions, shape, SHAPE_BUCKET, SHAPE_BATCH } from "./options";
import { buildFragments } from "./fragments";
import { useTextHeap, putSample } from "./objects";
import { writer, reserve, bound, indexOf, emitSample } from "./emit";
import { encodeBuckets } from "./bucket";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

const top = memory.data(4 * 4);

export function wg_configure(size: i32): i32 {
  const c = new JsonCursor(input(), input() + <usize>size);
  const root = c.root;
  if (root >= c.end || load<u8>(root) != 0x7b) return BAD_SETTINGS;
  c.members(root, "with pipeline points devices", top);
  if (!readOptions(c, <usize>load<u32>(top))) return BAD_SETTINGS;
  buildFragments(c, <usize>load<u32>(top, 4), <usize>load<u32>(top, 8), <usize>load<u32>(top, 12));
  return OK;
}

export function wg_process(size: i32): i32 {
  const batch = input();
  if (size < BATCH_HEADER) return BAD_INPUT;
  const n = sampleCount(batch);
  const heap = <u64>heapBytes(batch);
  if (<u64>BATCH_HEADER + <u64>n * SAMPLE_SIZE + heap > <u64>size) return BAD_INPUT;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    if (type(rec) == TYPE_TEXT && <u64>textOffset(rec) + <u64>textLength(rec) > heap) return BAD_INPUT;
  }
  useTextHeap(heapAt(batch));
  writer.begin(n * 96);
  if (n > 0) {
    if (shape == SHAPE_BUCKET) encodeBuckets(batch, n);
    else if (shape == SHAPE_BATCH) encodeArray(batch, n);
    else for (let i = 0; i < n; i++) emitSample(sampleAt(batch, i));
  }
  return writer.finish();
}

/** The batch shape: one message about many points, a JSON array of every sample. */
function encodeArray(batch: usize, n: i32): void {
  writer.open(NO_POINT);
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const at = reserve(bound(rec) + 1);
    store<u8>(at, i > 0 ? 0x2c : 0x5b); // , or [
    writer.advance(<i32>(putSample(at + 1, rec, indexOf(rec)) - at));
  }
  store<u8>(reserve(1), 0x5d); // ]
  writer.advance(1);
  writer.close();
}
