// Building a message batch (docs/plugin-abi.md, "Message batch"): records of [u32 len][u32 point]
// [payload] padded to 4. Encoders append payload bytes through the writer's byte primitives.
import { reserveOutput, setResult, grownCapacity } from "./io";

export const NO_POINT: u32 = 0xffffffff;

export class MessageWriter {
  private base: usize = 0;
  private len: i32 = 0;
  private cap: i32 = 0;
  private start: i32 = -1;

  begin(expectedBytes: i32): void {
    this.cap = expectedBytes > 256 ? expectedBytes : 256;
    this.base = reserveOutput(this.cap, 0);
    this.len = 0;
    this.start = -1;
  }

  /** Makes room for `n` more bytes and returns the address to write them at. */
  @inline ensure(n: i32): usize {
    if (this.len + n > this.cap) {
      this.cap = grownCapacity(this.cap, this.len + n);
      this.base = reserveOutput(this.cap, this.len);
    }
    return this.base + <usize>this.len;
  }

  /** Starts a message about `pointId` (NO_POINT for a message about many points). */
  open(pointId: u32): void {
    const at = this.ensure(8);
    store<u32>(at, 0, 0);
    store<u32>(at, pointId, 4);
    this.start = this.len;
    this.len += 8;
  }

  /** Ends the current message: fills its length and pads to 4 bytes. */
  close(): void {
    const payload = this.len - this.start - 8;
    store<u32>(this.base + <usize>this.start, <u32>payload, 0);
    const padded = (this.len + 3) & ~3;
    this.ensure(padded - this.len);
    for (let p = this.len; p < padded; p++) store<u8>(this.base + <usize>p, 0);
    this.len = padded;
    this.start = -1;
  }

  @inline byte(b: u8): void {
    store<u8>(this.ensure(1), b);
    this.len++;
  }

  bytes(ptr: usize, n: i32): void {
    memory.copy(this.ensure(n), ptr, <usize>n);
    this.len += n;
  }

  /** Appends ASCII text (every char < 128); for anything else use `utf8`. */
  ascii(s: string): void {
    const n = s.length;
    const at = this.ensure(n);
    for (let i = 0; i < n; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
    this.len += n;
  }

  /** Marks `n` bytes written directly at the address `ensure` returned. */
  @inline advance(n: i32): void { this.len += n; }

  finish(): i32 {
    setResult(this.base);
    return this.len;
  }
}
