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

/**
 * Tables are host memory too (8 bytes an entry on the worker's V8 heap), and plugin_memory does not
 * hold them: a transform that grew four tables by ten million entries in one batch took the worker
 * past its heap limit in a single allocation, and V8 answers that by aborting the whole process.
 * So every table's maximum is lowered to TABLE_MAX_ENTRIES (table.grow past it returns -1), a table
 * that starts larger is refused, and so is a module with more than MAX_TABLES tables. AssemblyScript
 * makes one small function table.
 */
export const TABLE_MAX_ENTRIES = 65536;
export const MAX_TABLES = 4;
const TABLE_SECTION = 4;

/** Returns the module with its memory's maximum lowered to `capBytes` (rounded down to pages) and its tables' to TABLE_MAX_ENTRIES. */
export function capModuleMemory(bytes: Uint8Array, capBytes: number, plugin: string, file: string): CappedModule {
  const capPages = Math.floor(capBytes / WASM_PAGE_BYTES);
  const fail = (detail: string) => new WgError('WG_ERR_PLUGIN_MEMORY', { plugin, file, detail });
  const replaced: Array<{ start: number; end: number; section: number[] }> = [];
  let limits: MemoryLimits | null = null;
  let at = HEADER_BYTES;
  while (at < bytes.byteLength) {
    const sectionStart = at;
    const id = bytes[at++]!;
    const size = readLeb(bytes, at);
    at = size.next;
    const payloadStart = at;
    const payloadEnd = payloadStart + size.value;
    if (payloadEnd > bytes.byteLength) return { bytes, limits: null }; // malformed: let compile say so
    at = payloadEnd;
    if (id === TABLE_SECTION) {
      const payload = capTables(bytes, payloadStart, payloadEnd, fail);
      replaced.push({ start: sectionStart, end: payloadEnd, section: [TABLE_SECTION, ...writeLeb(payload.length), ...payload] });
      continue;
    }
    if (id !== MEMORY_SECTION) continue;
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
    replaced.push({ start: sectionStart, end: payloadEnd, section: [MEMORY_SECTION, ...writeLeb(payload.length), ...payload] });
    limits = { initialPages: min.value, declaredMaxPages: declaredMax?.value ?? null, maxPages };
  }
  return { bytes: splice(bytes, replaced), limits };
}

/** The table section's payload with every table's maximum at most TABLE_MAX_ENTRIES. */
function capTables(bytes: Uint8Array, start: number, end: number, fail: (detail: string) => WgError): number[] {
  const count = readLeb(bytes, start);
  if (count.value > MAX_TABLES) throw fail(`defines ${count.value} tables; at most ${MAX_TABLES} are allowed`);
  const out = [...writeLeb(count.value)];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const refType = bytes[at]!;
    const flags = bytes[at + 1]!;
    if (flags > 1) throw fail(`table ${i} has limits flags ${flags}`);
    const min = readLeb(bytes, at + 2);
    const max = flags === 1 ? readLeb(bytes, min.next) : null;
    if (min.value > TABLE_MAX_ENTRIES) throw fail(`table ${i} starts with ${min.value} entries, more than the ${TABLE_MAX_ENTRIES} a plugin table may hold`);
    out.push(refType, 1, ...writeLeb(min.value), ...writeLeb(Math.min(max?.value ?? Infinity, TABLE_MAX_ENTRIES)));
    at = max ? max.next : min.next;
  }
  return [...out, ...bytes.subarray(at, end)];
}

function splice(bytes: Uint8Array, replaced: Array<{ start: number; end: number; section: number[] }>): Uint8Array {
  if (replaced.length === 0) return bytes;
  const parts: ArrayLike<number>[] = [];
  let from = 0;
  for (const r of replaced) {
    parts.push(bytes.subarray(from, r.start), r.section);
    from = r.end;
  }
  parts.push(bytes.subarray(from));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
