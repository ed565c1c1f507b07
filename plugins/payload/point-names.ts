// The settings document's points, kept as (device, name) records at configure, so that a pushed body
// naming its points ({"temp": 21.5}) is matched against memory, not JSON. Names are compared byte for
// byte as written (the gateway allows only A-Z a-z 0-9 . _ - in a point name, so none needs escaping).
import { JsonCursor } from "../sdk/json-cursor";

export let pointCount = 0;
// Point record: u32 device index, u32 name address, u32 name length.
let points: usize = 0;

@inline export function pointDevice(id: i32): i32 { return <i32>load<u32>(points + <usize>id * 12); }
@inline function nameAt(id: i32): usize { return <usize>load<u32>(points + <usize>id * 12, 4); }
@inline function nameLength(id: i32): i32 { return <i32>load<u32>(points + <usize>id * 12, 8); }

const found = memory.data(2 * 4);

/** Reads `points` (the settings document's array at `list`); false when one is not an object with a name and device. */
export function readPoints(json: JsonCursor, list: usize): bool {
  pointCount = json.count(list);
  points = heap.alloc(<usize>(pointCount > 0 ? pointCount : 1) * <usize>12);
  let id = 0;
  for (let p = json.first(list); p != 0; p = json.next(p)) {
    json.members(p, "name device", found);
    const name = <usize>load<u32>(found);
    const device = json.number(<usize>load<u32>(found, 4));
    const n = json.textLength(name);
    if (n <= 0 || !(device >= 0 && device < 65535)) return false;
    const copy = heap.alloc(<usize>n);
    memory.copy(copy, name + 1, <usize>n);
    store<u32>(points + <usize>id * 12, <u32>device);
    store<u32>(points + <usize>id * 12, <u32>copy, 4);
    store<u32>(points + <usize>id * 12, <u32>n, 8);
    id++;
  }
  return true;
}

/** The id of device `device`'s point whose name is the `n` bytes at `name`; -1 when it has none. */
export function pointNamed(device: i32, name: usize, n: i32): i32 {
  for (let id = 0; id < pointCount; id++) {
    if (pointDevice(id) != device || nameLength(id) != n) continue;
    if (memory.compare(nameAt(id), name, <usize>n) == 0) return id;
  }
  return -1;
}
