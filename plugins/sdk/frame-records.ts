// Frame records (docs/plugin-abi.md, "Frame batch") walked in place, without an object: the
// counterpart of samples.ts's record accessors, for decoders whose size budget is tight. FrameReader
// (frames.ts) does the same through an instance.
//   for (let rec = frameAt(batch, end); rec != 0; rec = frameAt(frameAfter(rec), end)) { ... }

export const FRAME_HEADER: i32 = 32;

/** `p` when a whole record starts there and ends by `end`; 0 at the end or on a record overrunning it. */
export function frameAt(p: usize, end: usize): usize {
  if (p + <usize>FRAME_HEADER > end) return 0;
  const len = <usize>load<u32>(p);
  return len >= <usize>(FRAME_HEADER - 4) && p + 4 + len <= end ? p : 0;
}

/** Where the record after `rec` starts (records are padded to 4 bytes). */
@inline export function frameAfter(rec: usize): usize {
  return rec + ((4 + <usize>load<u32>(rec) + 3) & ~3);
}

@inline export function frameLengthField(rec: usize): i32 { return <i32>load<u32>(rec); }
@inline export function frameDevice(rec: usize): i32 { return <i32>load<u16>(rec, 4); }
@inline export function frameRequest(rec: usize): i32 { return <i32>load<u16>(rec, 6); }
@inline export function frameStatus(rec: usize): u16 { return load<u16>(rec, 8); }
@inline export function frameSeq(rec: usize): i32 { return <i32>load<u16>(rec, 10); }
/** ABI 1.5, pushed frames (status 4): the point id the resource maps to, or 0xffffffff for its whole device. */
@inline export function framePoint(rec: usize): u32 { return load<u32>(rec, 12); }
@inline export function frameTs(rec: usize): f64 { return load<f64>(rec, 16); }
@inline export function frameRequestLength(rec: usize): i32 { return <i32>load<u16>(rec, 24); }
@inline export function frameResponseLength(rec: usize): i32 { return <i32>load<u16>(rec, 26); }
@inline export function frameRequestAt(rec: usize): usize { return rec + <usize>FRAME_HEADER; }
@inline export function frameResponseAt(rec: usize): usize { return rec + <usize>FRAME_HEADER + <usize>load<u16>(rec, 24); }
