// Fixed ASCII words (JSON keys, quality and aggregate names, words of the settings) kept in one
// space-separated list: one string literal for them all costs far less module size than one per word.

/** Writes word `index` (from 0) of the space-separated ASCII `words` at `at`; returns the end. */
export function putWord(at: usize, words: string, index: i32): usize {
  let i = 0;
  for (; index > 0; i++) if (words.charCodeAt(i) == 0x20) index--;
  for (let c = words.charCodeAt(i); c > 0x20; c = words.charCodeAt(++i)) store<u8>(at++, <u8>c);
  return at;
}
