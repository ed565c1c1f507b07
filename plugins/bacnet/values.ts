// A property's value as a sample: the application-tagged primitive (ASHRAE 135, 20.2) that a
// ReadProperty-ACK, a ReadPropertyMultiple-ACK or a COV notification carries, as a number or a bool.
import { TYPE_BOOL, TYPE_NUMBER, GOOD, BAD, AGG_RAW } from "../sdk";
import { writer } from "./sample-out";
import {
  readTag, tagIsContext, tagIsOpening, tagNumber, tagLength, tagContent, contentUnsigned, contentSigned, isClosing, skipConstructed,
  APP_NULL, APP_BOOLEAN, APP_UNSIGNED, APP_SIGNED, APP_REAL, APP_DOUBLE, APP_BIT_STRING, APP_ENUMERATED,
} from "./tags";
import { isBinaryObject, PROP_PRESENT_VALUE } from "./objects";

// What decodeValue() read.
export let valueNumber: f64 = 0;
export let valueType: u8 = TYPE_NUMBER;
/** Why the value cannot be a sample (VALUE_OK when it can). */
export let valueProblem: i32 = 0;

export const VALUE_OK = 0;
/** An application tag this decoder does not turn into a number (a string, a date, a list). */
export const VALUE_UNSUPPORTED = 1;
/** Null: a commandable value with every priority relinquished and no default, or a device's "no value". */
export const VALUE_NULL = 2;
/** The bytes are not a whole tag. */
export const VALUE_MALFORMED = 3;

/**
 * Decodes the value at `p` of property `property` of an object of `objectType` (bounded by `end`).
 * Returns the position after it, or 0 when malformed. A binary object's present value (an enumerated
 * inactive 0 / active 1) and every boolean become bool samples; a bit string (status flags: in-alarm,
 * fault, overridden, out-of-service) becomes the number whose bit i is its i-th bit.
 */
export function decodeValue(p: usize, end: usize, objectType: u32, property: u32): usize {
  valueProblem = VALUE_OK;
  valueType = TYPE_NUMBER;
  valueNumber = NaN;
  const after = readTag(p, end);
  if (after == 0) {
    valueProblem = VALUE_MALFORMED;
    return 0;
  }
  if (tagIsContext || tagIsOpening) {
    valueProblem = VALUE_UNSUPPORTED;
    return after;
  }
  const n = tagLength;
  switch (tagNumber) {
    case APP_NULL:
      valueProblem = VALUE_NULL;
      break;
    case APP_BOOLEAN:
      valueType = TYPE_BOOL;
      valueNumber = n != 0 ? 1 : 0;
      break;
    case APP_UNSIGNED:
      if (n > 4) valueNumber = unsigned64(tagContent, n);
      else valueNumber = <f64>contentUnsigned();
      break;
    case APP_SIGNED:
      if (n > 4) valueProblem = VALUE_UNSUPPORTED;
      else valueNumber = <f64>contentSigned();
      break;
    case APP_REAL:
      if (n != 4) valueProblem = VALUE_MALFORMED;
      else valueNumber = <f64>reinterpret<f32>(bswap<u32>(load<u32>(tagContent)));
      break;
    case APP_DOUBLE:
      if (n != 8) valueProblem = VALUE_MALFORMED;
      else valueNumber = reinterpret<f64>(bswap<u64>(load<u64>(tagContent)));
      break;
    case APP_ENUMERATED:
      valueNumber = <f64>contentUnsigned();
      if (property == PROP_PRESENT_VALUE && isBinaryObject(objectType)) valueType = TYPE_BOOL;
      break;
    case APP_BIT_STRING:
      valueNumber = bits(tagContent, n);
      break;
    default:
      valueProblem = VALUE_UNSUPPORTED;
  }
  return after;
}

/**
 * The value inside an opening tag `tag` whose content starts at `p`, through its closing tag: the
 * position after that, or 0 when malformed. One primitive value is decoded as decodeValue() does; a
 * constructed value or a list (a property read whole that is not one number) is read past, and
 * valueProblem says VALUE_UNSUPPORTED.
 */
export function decodeEnclosed(p: usize, end: usize, objectType: u32, property: u32, tag: u32): usize {
  let q = decodeValue(p, end, objectType, property);
  if (q != 0 && tagIsOpening) q = skipConstructed(q, end);
  while (q != 0) {
    const next = readTag(q, end);
    if (next == 0) return 0;
    if (isClosing(tag)) return next;
    valueProblem = VALUE_UNSUPPORTED;
    q = tagIsOpening ? skipConstructed(next, end) : next;
  }
  return 0;
}

/** An unsigned of 5 to 8 octets (a counter), as the nearest double. */
function unsigned64(p: usize, n: u32): f64 {
  let v: u64 = 0;
  for (let i: u32 = 0; i < n && i < 8; i++) v = (v << 8) | <u64>load<u8>(p + i);
  return <f64>v;
}

/**
 * A bit string (20.2.10): the first octet says how many bits of the last octet are unused; bit 0 is
 * the most significant bit of the second octet. At most 32 bits are read.
 */
function bits(p: usize, n: u32): f64 {
  if (n == 0) return 0;
  const unused = <u32>load<u8>(p);
  const count = min<u32>((n - 1) * 8 - min<u32>(unused, 7), 32);
  let v: f64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const octet = <u32>load<u8>(p + 1 + (i >> 3));
    if ((octet & (0x80 >> (i & 7))) != 0) v += <f64>(<u64>1 << i);
  }
  return v;
}

/** A sample of point `id` from the value just decoded: good when it is one number or bool, else NaN and bad. */
export function pushValue(ts: f64, id: i32): void {
  if (valueProblem == VALUE_OK) writer.push(ts, valueNumber, <u32>id, GOOD, valueType, AGG_RAW);
  else writer.push(ts, NaN, <u32>id, BAD, TYPE_NUMBER, AGG_RAW);
}
