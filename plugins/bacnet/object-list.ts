// An answer's value list for the scan (tools/scan.ts), one sample per value, whose point id is its
// position in the list (a ReadProperty-ACK) or the property's identifier (a ReadPropertyMultiple-ACK's
// result): the object-list's object identifiers (read whole, or its length at array index 0 and one
// element at a time), an object-name or description (a character string, as text), a present value
// or units (as values.ts decodes them for the gateway). Values nothing here reads
// (a date, a constructed value) are samples of quality bad, so their positions still count.
import { SampleWriter, GOOD, BAD, TYPE_NUMBER, AGG_RAW } from "../sdk";
import { readTag, tagIsContext, tagIsOpening, tagNumber, tagLength, tagContent, contentUnsigned, isClosing, skipConstructed, APP_OBJECT_ID } from "./tags";
import { decodeValue, valueNumber, valueType, valueProblem, VALUE_OK } from "./values";

const APP_CHARACTER_STRING: u32 = 7;
// Character sets of a character string (20.2.9): the first content octet.
const CHARSET_UTF8: u8 = 0;
const CHARSET_UCS2: u8 = 4;
const CHARSET_ISO_8859_1: u8 = 5;

export const scanWriter = new SampleWriter();

// A character string as UTF-8: ISO 8859-1 takes at most 2 octets per character, UCS-2's 2 octets at
// most 3; a datagram holds at most 1507 octets.
const textOut = memory.data(2304);

/**
 * The values from `p` (after an opening tag `tag`: [3] of a ReadProperty-ACK, [4] of a
 * ReadPropertyMultiple-ACK's result) to its closing tag, of `property` of an object of type
 * `objectType`: the position after the closing tag, or 0 when malformed. Each value's point id is
 * its position from 0 on, or `pointId` for every one when that is not -1.
 */
export function decodeValueList(p: usize, end: usize, objectType: u32, property: u32, tag: u32, pointId: i32): usize {
  let id: u32 = pointId >= 0 ? <u32>pointId : 0;
  const step: u32 = pointId >= 0 ? 0 : 1;
  while (p < end) {
    const after = readTag(p, end);
    if (after == 0) return 0;
    if (isClosing(tag)) return after;
    if (tagIsOpening) {
      // A constructed value (a priority array's entry, a date range): not one number.
      p = skipConstructed(after, end);
      if (p == 0) return 0;
      scanWriter.push(0, NaN, id, BAD, TYPE_NUMBER, AGG_RAW);
      id += step;
      continue;
    }
    if (!tagIsContext && tagNumber == APP_OBJECT_ID) {
      // Exact as a double: type in the top 10 bits, instance in the low 22 (20.2.14).
      scanWriter.push(0, <f64>contentUnsigned(), id, GOOD, TYPE_NUMBER, AGG_RAW);
    } else if (!tagIsContext && tagNumber == APP_CHARACTER_STRING) {
      pushText(id, tagContent, tagLength);
    } else {
      if (decodeValue(p, end, objectType, property) == 0) return 0;
      if (valueProblem == VALUE_OK) scanWriter.push(0, valueNumber, id, GOOD, valueType, AGG_RAW);
      else scanWriter.push(0, NaN, id, BAD, TYPE_NUMBER, AGG_RAW);
    }
    id += step;
    p = after;
  }
  return 0;
}

/** A character string's `n` content octets at `p` (its character set, then the characters) as a text sample. */
function pushText(id: u32, p: usize, n: u32): void {
  if (n == 0) return scanWriter.push(0, NaN, id, BAD, TYPE_NUMBER, AGG_RAW);
  const charset = load<u8>(p);
  const chars = p + 1;
  const count = n - 1;
  if (charset == CHARSET_UTF8) return scanWriter.pushText(0, id, GOOD, chars, <i32>count);
  let q = textOut;
  if (charset == CHARSET_ISO_8859_1) {
    for (let i: u32 = 0; i < count; i++) q = putUtf8(q, <u32>load<u8>(chars + i));
  } else if (charset == CHARSET_UCS2 && (count & 1) == 0) {
    for (let i: u32 = 0; i < count; i += 2) q = putUtf8(q, (<u32>load<u8>(chars + i) << 8) | <u32>load<u8>(chars + i + 1));
  } else {
    // DBCS, JIS X 0208, UCS-4: not read here.
    return scanWriter.push(0, NaN, id, BAD, TYPE_NUMBER, AGG_RAW);
  }
  scanWriter.pushText(0, id, GOOD, textOut, <i32>(q - textOut));
}

/** Writes the code point `c` (below 0x10000) as UTF-8 at `q`; the position after it. */
function putUtf8(q: usize, c: u32): usize {
  if (c < 0x80) {
    store<u8>(q, <u8>c);
    return q + 1;
  }
  if (c < 0x800) {
    store<u8>(q, <u8>(0xc0 | (c >> 6)));
    store<u8>(q, <u8>(0x80 | (c & 0x3f)), 1);
    return q + 2;
  }
  store<u8>(q, <u8>(0xe0 | (c >> 12)));
  store<u8>(q, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
  store<u8>(q, <u8>(0x80 | (c & 0x3f)), 2);
  return q + 3;
}
