// Reading a frame batch (docs/plugin-abi.md, "Frame batch"): records of [u32 len][32-byte header minus
// the len][request][response], each padded to 4 bytes.

export const FRAME_OK: u16 = 0;
export const FRAME_TIMEOUT: u16 = 1;
export const FRAME_LINK_LOST: u16 = 2;
/** ABI 1.4: a frame nobody asked for (request index FRAME_NO_REQUEST, the sender's address as the request bytes). */
export const FRAME_UNSOLICITED: u16 = 3;
/** ABI 1.5: a body a device pushed to a push source (CoAP, MQTT): the point it maps to in the u32 at offset 12. */
export const FRAME_PUSHED: u16 = 4;
/** ABI 1.5: the point of a pushed frame whose resource stands for its whole device (the body names its points). */
export const FRAME_NO_POINT: u32 = 0xffffffff;
export const FRAME_NO_REQUEST: i32 = 0xffff;
export const FRAME_NO_DEVICE: i32 = 0xffff;

export class FrameReader {
  private pos: usize = 0;
  private end: usize = 0;
  /** Address of the current record. */
  rec: usize = 0;

  reset(ptr: usize, size: i32): void {
    this.pos = ptr;
    this.end = ptr + <usize>size;
    this.rec = 0;
  }

  /** Moves to the next record; false at the end (or on a record that overruns the batch). */
  next(): bool {
    if (this.pos + 32 > this.end) return false;
    const len = <usize>load<u32>(this.pos);
    if (len < 28 || this.pos + 4 + len > this.end) return false;
    this.rec = this.pos;
    this.pos += (4 + len + 3) & ~3;
    return true;
  }

  @inline get device(): i32 { return <i32>load<u16>(this.rec, 4); }
  @inline get request(): i32 { return <i32>load<u16>(this.rec, 6); }
  @inline get status(): u16 { return load<u16>(this.rec, 8); }
  @inline get seq(): i32 { return <i32>load<u16>(this.rec, 10); }
  /** ABI 1.5, pushed frames only: the point id the resource maps to, or FRAME_NO_POINT (0 in other records). */
  @inline get point(): u32 { return load<u32>(this.rec, 12); }
  @inline get ts(): f64 { return load<f64>(this.rec, 16); }
  @inline get requestLength(): i32 { return <i32>load<u16>(this.rec, 24); }
  @inline get responseLength(): i32 { return <i32>load<u16>(this.rec, 26); }
  @inline get requestPtr(): usize { return this.rec + 32; }
  @inline get responsePtr(): usize { return this.rec + 32 + <usize>load<u16>(this.rec, 24); }
}
