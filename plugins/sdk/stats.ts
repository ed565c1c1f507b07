// A plugin's own counters, reported through the optional wg_stats export (docs/plugin-abi.md):
//   const stats = new Stats(["rejected", "suspect"]);  stats.add(0, 1);
//   export function wg_stats(): i32 { return stats.write(); }
import { reserveOutput, setResult } from "./io";

export class Stats {
  private values: StaticArray<f64>;
  private names: Array<Uint8Array>;

  constructor(names: Array<string>) {
    this.values = new StaticArray<f64>(names.length);
    this.names = new Array<Uint8Array>(names.length);
    for (let i = 0; i < names.length; i++) this.names[i] = Uint8Array.wrap(String.UTF8.encode(names[i]));
  }

  @inline add(index: i32, n: f64): void {
    unchecked(this.values[index] += n);
  }

  get(index: i32): f64 {
    return this.values[index];
  }

  /** Writes {"name":value,...} (names are plain identifiers, values whole numbers) and returns its length. */
  write(): i32 {
    let need = 2;
    for (let i = 0; i < this.names.length; i++) need += this.names[i].length + 4 + 20;
    const out = reserveOutput(need, 0);
    let p = out;
    store<u8>(p++, 0x7b);
    for (let i = 0; i < this.names.length; i++) {
      if (i > 0) store<u8>(p++, 0x2c);
      store<u8>(p++, 0x22);
      const name = this.names[i];
      memory.copy(p, name.dataStart, <usize>name.length);
      p += <usize>name.length;
      store<u8>(p++, 0x22);
      store<u8>(p++, 0x3a);
      p = writeUint(p, <u64>this.values[i]);
    }
    store<u8>(p++, 0x7d);
    setResult(out);
    return <i32>(p - out);
  }
}

function writeUint(p: usize, v: u64): usize {
  let digits = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  let q = p + <usize>digits;
  do {
    store<u8>(--q, <u8>(0x30 + <i32>(v % 10)));
    v /= 10;
  } while (v > 0);
  return p + <usize>digits;
}
