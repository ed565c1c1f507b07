// BACnet tags (ASHRAE 135, clause 20.2): every value of a service is a tag (its number, its class
// and a length, value or type) followed by its content. Writing covers what requests carry (object
// identifiers, unsigned numbers, opening and closing tags); reading decodes one tag at a time into
// the globals below, so decoding a response allocates nothing (the stub runtime never frees).

// Class bit of the tag octet: 1 context specific, 0 application.
const CONTEXT: u8 = 0x08;
// Length/value/type field values of a context tag that mean an opening or a closing tag.
const LVT_OPENING: u32 = 6;
const LVT_CLOSING: u32 = 7;

// Application tag numbers (20.2.1.4).
export const APP_NULL: u32 = 0;
export const APP_BOOLEAN: u32 = 1;
export const APP_UNSIGNED: u32 = 2;
export const APP_SIGNED: u32 = 3;
export const APP_REAL: u32 = 4;
export const APP_DOUBLE: u32 = 5;
export const APP_BIT_STRING: u32 = 8;
export const APP_ENUMERATED: u32 = 9;
export const APP_OBJECT_ID: u32 = 12;

/** An object identifier: the type in the top 10 bits, the instance in the low 22 (20.2.14). */
@inline export function objectId(type: u32, instance: u32): u32 {
  return (type << 22) | (instance & 0x3fffff);
}

/** Bytes an unsigned number takes as tag content: 1 to 4, big-endian, no leading zero octets. */
function unsignedBytes(v: u32): u32 {
  return v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4;
}

/** Writes context tag `tag` holding the unsigned `v` at `p`; returns the position after it. */
export function putContextUnsigned(p: usize, tag: u32, v: u32): usize {
  const n = unsignedBytes(v);
  store<u8>(p++, <u8>((tag << 4) | CONTEXT | n));
  for (let i = n; i > 0; i--) store<u8>(p++, <u8>(v >>> ((i - 1) * 8)));
  return p;
}

/** Writes context tag `tag` holding an object identifier (always 4 octets). */
export function putContextObjectId(p: usize, tag: u32, id: u32): usize {
  store<u8>(p++, <u8>((tag << 4) | CONTEXT | 4));
  store<u32>(p, bswap<u32>(id));
  return p + 4;
}

@inline export function putOpening(p: usize, tag: u32): usize {
  store<u8>(p, <u8>((tag << 4) | CONTEXT | LVT_OPENING));
  return p + 1;
}

@inline export function putClosing(p: usize, tag: u32): usize {
  store<u8>(p, <u8>((tag << 4) | CONTEXT | LVT_CLOSING));
  return p + 1;
}

// The tag readTag() decoded last.
export let tagNumber: u32 = 0;
export let tagIsContext = false;
export let tagIsOpening = false;
export let tagIsClosing = false;
/** Content octets (for an application boolean: its value, which has no content). */
export let tagLength: u32 = 0;
/** Where the content starts. */
export let tagContent: usize = 0;

/**
 * Decodes the tag at `p` (which must end by `end`): its header into the globals above. Returns the
 * position after its content (after the header for an opening or closing tag), or 0 when the bytes
 * are not a whole tag.
 */
export function readTag(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const first = load<u8>(p++);
  tagNumber = <u32>(first >> 4);
  tagIsContext = (first & CONTEXT) != 0;
  let lvt = <u32>(first & 7);
  if (tagNumber == 15) {
    // Extended tag number in the next octet (20.2.1.2).
    if (p >= end) return 0;
    tagNumber = <u32>load<u8>(p++);
  }
  tagIsOpening = tagIsContext && lvt == LVT_OPENING;
  tagIsClosing = tagIsContext && lvt == LVT_CLOSING;
  if (tagIsOpening || tagIsClosing) {
    tagLength = 0;
    tagContent = p;
    return p;
  }
  if (!tagIsContext && tagNumber == APP_BOOLEAN) {
    // An application boolean carries its value in the length field and has no content (20.2.3).
    tagLength = lvt;
    tagContent = p;
    return p;
  }
  if (lvt == 5) {
    // Extended length (20.2.1.3.1): one octet, or 254 then two, or 255 then four.
    if (p >= end) return 0;
    lvt = <u32>load<u8>(p++);
    if (lvt == 254) {
      if (p + 2 > end) return 0;
      lvt = (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
      p += 2;
    } else if (lvt == 255) {
      if (p + 4 > end) return 0;
      lvt = bswap<u32>(load<u32>(p));
      p += 4;
    }
  }
  tagLength = lvt;
  tagContent = p;
  if (<u64>p + <u64>lvt > <u64>end) return 0;
  return p + lvt;
}

/** The content of the last tag read as an unsigned number (at most 4 octets; 0 for none). */
export function contentUnsigned(): u32 {
  let v: u32 = 0;
  const n = min<u32>(tagLength, 4);
  for (let i: u32 = 0; i < n; i++) v = (v << 8) | <u32>load<u8>(tagContent + i);
  return v;
}

/** The content of the last tag read as a two's complement number (1 to 4 octets). */
export function contentSigned(): i32 {
  const n = min<u32>(tagLength, 4);
  if (n == 0) return 0;
  const shift = (4 - n) * 8;
  return (<i32>(contentUnsigned() << shift)) >> shift;
}

/** Whether the last tag read is context tag `n` (neither opening nor closing). */
@inline export function isContext(n: u32): bool {
  return tagIsContext && !tagIsOpening && !tagIsClosing && tagNumber == n;
}

/** Whether the last tag read is the opening (or closing) tag `n`. */
@inline export function isOpening(n: u32): bool {
  return tagIsOpening && tagNumber == n;
}
@inline export function isClosing(n: u32): bool {
  return tagIsClosing && tagNumber == n;
}

/**
 * The position after the closing tag that matches the opening tag just read, whose content starts
 * at `p`; 0 when the bytes end first. Nested constructed values are skipped whole.
 */
export function skipConstructed(p: usize, end: usize): usize {
  let depth = 1;
  while (depth > 0) {
    p = readTag(p, end);
    if (p == 0) return 0;
    if (tagIsOpening) depth++;
    else if (tagIsClosing) depth--;
  }
  return p;
}
