/**
 * Rewriting a built module's memory limits, for tests of a host that refuses growth: the plugin's own
 * code runs unchanged, only the memory section's maximum differs (WebAssembly core spec, 5.5.8).
 */

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Reads an unsigned LEB128 at `at`: its value and the position after it. */
function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
  }
}

/** `bytes` with its one memory's maximum set to `maxPages` (64 KiB pages), its initial size kept. */
export function withMemoryMaximum(bytes: Uint8Array, maxPages: number): Uint8Array {
  const parts: number[][] = [Array.from(bytes.subarray(0, 8))];
  let at = 8;
  let found = false;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = readLeb(bytes, at + 1);
    if (id === 5) {
      const [count, flagsAt] = readLeb(bytes, body);
      if (count !== 1) throw new Error(`expected one memory, found ${count}`);
      const [initial] = readLeb(bytes, flagsAt + 1);
      const section = [1, 0x01, ...leb(initial), ...leb(maxPages)];
      parts.push([5, ...leb(section.length), ...section]);
      found = true;
    } else {
      parts.push(Array.from(bytes.subarray(at, body + size)));
    }
    at = body + size;
  }
  if (!found) throw new Error('module declares no memory');
  return Uint8Array.from(parts.flat());
}
