/**
 * The host's cap on a plugin's linear memory. WebAssembly lets a module declare its memory's maximum
 * (or none: up to 4 GiB); V8 then grows it on request. A transform that grows to the maximum put the
 * process at 4.2 GB, and every fresh worker did it again. So before compiling, the host rewrites the
 * module's memory section: the declared maximum becomes the smaller of the plugin's own and the cap.
 * Growth past it then fails inside the plugin (`memory.grow` returns -1; AssemblyScript's allocator
 * aborts, which traps) and is contained like any trap. A module whose *initial* memory exceeds the
 * cap is refused: it could not run even once.
 *
 * Binary format (WebAssembly core spec, 5.5.8 memory section; 5.3.4 limits): section id 5, a u32
 * LEB128 byte size, a vector (LEB128 count) of limits; a limits is a flag byte (0: min only, 1: min and
 * max; 2/3 shared, 4+ 64-bit memories: both refused here) then LEB128 min [and max], in 64 KiB pages.
 */
import { WgError } from '../errors.js';

export const WASM_PAGE_BYTES = 65536;
const MEMORY_SECTION = 5;
const HEADER_BYTES = 8;

export interface MemoryLimits {
  /** Pages the module starts with. */
  initialPages: number;
  /** The maximum the module itself declared, or null for none. */
  declaredMaxPages: number | null;
  /** The maximum it now runs with. */
  maxPages: number;
}

export interface CappedModule {
  bytes: Uint8Array;
  /** Null when the module defines no memory (the ABI check then refuses it). */
  limits: MemoryLimits | null;
}

/** Returns the module with its memory's maximum lowered to `capBytes` (rounded down to pages). */
export function capModuleMemory(bytes: Uint8Array, capBytes: number, plugin: string, file: string): CappedModule {
  const capPages = Math.floor(capBytes / WASM_PAGE_BYTES);
  const fail = (detail: string) => new WgError('WG_ERR_PLUGIN_MEMORY', { plugin, file, detail });
  let at = HEADER_BYTES;
  while (at < bytes.byteLength) {
    const sectionStart = at;
    const id = bytes[at++]!;
    const size = readLeb(bytes, at);
    at = size.next;
    const payloadStart = at;
    const payloadEnd = payloadStart + size.value;
    if (payloadEnd > bytes.byteLength) return { bytes, limits: null }; // malformed: let compile say so
    if (id !== MEMORY_SECTION) {
      at = payloadEnd;
      continue;
    }
    const count = readLeb(bytes, payloadStart);
    if (count.value !== 1) throw fail(`defines ${count.value} memories; the ABI has exactly one`);
    const flags = bytes[count.next]!;
    if (flags > 1) throw fail(flags & 4 ? 'its memory is 64-bit' : 'its memory is shared');
    const min = readLeb(bytes, count.next + 1);
    const declaredMax = flags === 1 ? readLeb(bytes, min.next) : null;
    const limitsEnd = declaredMax ? declaredMax.next : min.next;
    if (min.value > capPages) {
      throw fail(`starts with ${formatBytes(min.value * WASM_PAGE_BYTES)} of memory, more than the pipeline's plugin_memory of ${formatBytes(capPages * WASM_PAGE_BYTES)}`);
    }
    const maxPages = Math.min(declaredMax?.value ?? Infinity, capPages);
    const payload = [...writeLeb(1), 1, ...writeLeb(min.value), ...writeLeb(maxPages), ...bytes.subarray(limitsEnd, payloadEnd)];
    const section = [MEMORY_SECTION, ...writeLeb(payload.length), ...payload];
    const out = new Uint8Array(sectionStart + section.length + (bytes.byteLength - payloadEnd));
    out.set(bytes.subarray(0, sectionStart), 0);
    out.set(section, sectionStart);
    out.set(bytes.subarray(payloadEnd), sectionStart + section.length);
    return { bytes: out, limits: { initialPages: min.value, declaredMaxPages: declaredMax?.value ?? null, maxPages } };
  }
  return { bytes, limits: null };
}

function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0 || shift > 35) return { value, next: at };
  }
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}
