// Messages out: the one MessageWriter of the plugin and the per-message steps every shape shares.
import { MessageWriter, NO_POINT, point, type, textLength, TYPE_TEXT } from "../sdk";
import { pointCount, objectBound } from "./fragments";
import { putSample } from "./objects";

export const writer = new MessageWriter();

/** Room for `n` more bytes of the current message; the address to write them at. */
export function reserve(n: i32): usize {
  return writer.ensure(n);
}

/** Bytes to reserve for one object holding sample `rec`: escaped text may take 6 bytes per byte. */
export function bound(rec: usize): i32 {
  return objectBound + (type(rec) == TYPE_TEXT ? 6 * <i32>textLength(rec) : 0);
}

/** The point index fragments use: the point id, or `pointCount` for an id the settings do not know. */
export function indexOf(rec: usize): i32 {
  const p = point(rec);
  return p < <u32>pointCount ? <i32>p : pointCount;
}

/** One message holding sample `rec` alone, about its point (or no point when the id is unknown). */
export function emitSample(rec: usize): void {
  const index = indexOf(rec);
  writer.open(index < pointCount ? <u32>index : NO_POINT);
  const start = reserve(bound(rec));
  writer.advance(<i32>(putSample(start, rec, index) - start));
  writer.close();
}
