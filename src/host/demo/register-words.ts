/**
 * How a value is laid out across 16-bit Modbus registers, as the demo PLC simulator writes it.
 *
 * Order names spell the bytes of the value, most significant first (`A`), in the order they appear
 * on the wire: `ABCD` is big-endian (the Modbus default), `CDAB` swaps the two words (common on
 * Schneider and Siemens gear), `BADC` swaps the bytes inside each word, `DCBA` is fully little-endian.
 * For 16-bit types only the first word matters: `ABCD`/`CDAB` give `AB`, `BADC`/`DCBA` give `BA`.
 *
 * This is the simulator's own encoder, kept deliberately plain (DataView + a permutation); the
 * interop tests check it word for word against pymodbus's BinaryPayloadBuilder.
 */

export type WordOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';
export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';

export const WORD_ORDERS: readonly WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/** Registers a value of `type` occupies. */
export function registerCount(type: RegisterType): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}

/**
 * Encodes `value` as register words in `order`. Integers must already be whole and in range for the
 * type (the caller scales and rounds); out-of-range integers wrap as the wire would carry them.
 */
export function encodeWords(type: RegisterType, order: WordOrder, value: number): number[] {
  const bytes = new DataView(new ArrayBuffer(4));
  switch (type) {
    case 'int16':
      bytes.setInt16(0, value);
      break;
    case 'uint16':
      bytes.setUint16(0, value);
      break;
    case 'int32':
      bytes.setInt32(0, value);
      break;
    case 'uint32':
      bytes.setUint32(0, value);
      break;
    case 'float32':
      bytes.setFloat32(0, value);
      break;
  }
  const big = [0, 1, 2, 3].map((i) => bytes.getUint8(i)).slice(0, registerCount(type) * 2);
  const wire = permute(big, order);
  const words: number[] = [];
  for (let i = 0; i < wire.length; i += 2) words.push(((wire[i] as number) << 8) | (wire[i + 1] as number));
  return words;
}

/** Rearranges big-endian bytes (A first) into the wire order `order` names. */
function permute(big: number[], order: WordOrder): number[] {
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const swapWords = order === 'CDAB' || order === 'DCBA';
  const words: number[][] = [];
  for (let i = 0; i < big.length; i += 2) words.push(swapBytes ? [big[i + 1] as number, big[i] as number] : [big[i] as number, big[i + 1] as number]);
  if (swapWords) words.reverse();
  return words.flat();
}
