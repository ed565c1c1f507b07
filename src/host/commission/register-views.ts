/**
 * Every way a run of registers may be meant, side by side, so that an engineer with a device and no
 * trustworthy register map picks the type and order in seconds (wrong float word order is the field's
 * most asked question). Orders as in the point settings: A is the most significant byte of the value;
 * ABCD big-endian, BADC bytes of each register swapped, CDAB registers reversed, DCBA little-endian.
 */
export const VIEW_ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
export type ViewOrder = (typeof VIEW_ORDERS)[number];
export const VIEW_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

const WIDTH: Record<ViewType, number> = { int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, float64: 4 };

/** The value the registers starting at `words[0]` hold read as `type` in `order`; null if too few. */
export function viewOf(words: readonly number[], type: ViewType, order: ViewOrder): number | null {
  const n = WIDTH[type];
  if (words.length < n) return null;
  const bytes = new Uint8Array(n * 2);
  // Big-endian bytes of the registers as they arrived, then put back into ABCD order.
  const wire: number[] = [];
  for (let i = 0; i < n; i++) wire.push((words[i]! >> 8) & 0xff, words[i]! & 0xff);
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const reverseWords = order === 'CDAB' || order === 'DCBA';
  for (let w = 0; w < n; w++) {
    const from = reverseWords ? n - 1 - w : w;
    const hi = wire[from * 2]!;
    const lo = wire[from * 2 + 1]!;
    bytes[w * 2] = swapBytes ? lo : hi;
    bytes[w * 2 + 1] = swapBytes ? hi : lo;
  }
  const view = new DataView(bytes.buffer);
  switch (type) {
    case 'int16': return view.getInt16(0);
    case 'uint16': return view.getUint16(0);
    case 'int32': return view.getInt32(0);
    case 'uint32': return view.getUint32(0);
    case 'float32': return view.getFloat32(0);
    case 'float64': return view.getFloat64(0);
  }
}

/** Two characters per register, high byte first; unprintable bytes as "." so columns stay aligned. */
export function asciiOf(word: number): string {
  const ch = (b: number) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');
  return ch((word >> 8) & 0xff) + ch(word & 0xff);
}

export interface RegisterRow {
  address: number;
  word: number | null;
  hex: string | null;
  ascii: string | null;
  /** `${type}.${order}` → value, for the value starting at this register (16-bit types: ABCD and BADC only). */
  views: Record<string, number | null>;
}

/** One row per register: the value of each type and order that starts there. */
export function registerRows(first: number, words: readonly (number | null)[]): RegisterRow[] {
  return words.map((word, i) => {
    const views: Record<string, number | null> = {};
    const run: number[] = [];
    for (let j = i; j < words.length && j < i + 4 && words[j] !== null; j++) run.push(words[j] as number);
    for (const type of VIEW_TYPES) {
      // For one register, CDAB is ABCD and DCBA is BADC: show each distinct reading once.
      const orders = WIDTH[type] === 1 ? (['ABCD', 'BADC'] as const) : VIEW_ORDERS;
      for (const order of orders) views[`${type}.${order}`] = word === null ? null : viewOf(run, type, order);
    }
    return {
      address: first + i,
      word,
      hex: word === null ? null : word.toString(16).padStart(4, '0'),
      ascii: word === null ? null : asciiOf(word),
      views,
    };
  });
}
