// Fixed ASCII words (JSON keys, quality and aggregate names, log text) kept as lists in one string each,
// separated by spaces (or by `separator`): one string literal per list costs far less module size than
// one per word.

/** Writes part `index` (from 0) of the ASCII list `words` at `at`; returns the end. */
export function putWord(at: usize, words: string, index: i32, separator: i32 = 0x20): usize {
  let i = 0;
  for (; index > 0; i++) if (words.charCodeAt(i) == separator) index--;
  for (let c = words.charCodeAt(i); c != separator && c >= 0; c = words.charCodeAt(++i)) store<u8>(at++, <u8>c);
  return at;
}
