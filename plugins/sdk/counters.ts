// A plugin's own counters for the optional wg_stats export: the names are one string of
// space-separated ASCII identifiers, written out byte by byte, so wg_stats allocates nothing.
//   const counters = new Counters("rejected suspect");  counters.add(0, 1);
//   export function wg_stats(): i32 { return counters.write(); }
import { reserveOutput, setResult } from "./io";

export class Counters {
  /** One u64 per name. */
  private values: usize;
  private count: i32 = 1;

  constructor(private names: string) {
    for (let i = 0; i < names.length; i++) if (names.charCodeAt(i) == 0x20) this.count++;
    this.values = heap.alloc(<usize>this.count << 3);
    memory.fill(this.values, 0, <usize>this.count << 3);
  }

  /** Adds `n` to counter `index` (its position in the names). */
  @inline add(index: i32, n: u64): void {
    const at = this.values + (<usize>index << 3);
    store<u64>(at, load<u64>(at) + n);
  }

  get(index: i32): u64 {
    return load<u64>(this.values + (<usize>index << 3));
  }

  /** Writes {"name":value,...} to the output and returns its length. */
  write(): i32 {
    const names = this.names;
    const out = reserveOutput(names.length + this.count * 24 + 2, 0);
    let p = out;
    store<u8>(p++, 0x7b);
    store<u8>(p++, 0x22);
    for (let i = 0, k = 0; i <= names.length; i++) {
      const c = i < names.length ? names.charCodeAt(i) : 0x20;
      if (c != 0x20) {
        store<u8>(p++, <u8>c);
        continue;
      }
      store<u16>(p, 0x3a22); // `":`
      p = digits(p + 2, load<u64>(this.values + (<usize>(k++) << 3)));
      store<u16>(p, 0x222c); // `,"`
      p += 2;
    }
    store<u8>(p - 2, 0x7d); // the last `,"` becomes `}`
    setResult(out);
    return <i32>(p - 1 - out);
  }
}

/** Writes `v` in decimal at `p`; returns the address after the last digit. */
function digits(p: usize, v: u64): usize {
  let n: usize = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  let q = p + n;
  do {
    store<u8>(--q, <u8>(0x30 + <i32>(v % 10)));
    v /= 10;
  } while (v > 0);
  return p + n;
}
