// The object types and properties this decoder reads (ASHRAE 135, 21: BACnetObjectType,
// BACnetPropertyIdentifier), and their names for log lines. The gateway resolves the names a
// pipeline file uses into these numbers; the settings document carries the numbers.
import { lineListed } from "./words";
import { lineNumber, lineUtf8 } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";

export const OBJ_ANALOG_INPUT: u32 = 0;
export const OBJ_ANALOG_OUTPUT: u32 = 1;
export const OBJ_ANALOG_VALUE: u32 = 2;
export const OBJ_BINARY_INPUT: u32 = 3;
export const OBJ_BINARY_OUTPUT: u32 = 4;
export const OBJ_BINARY_VALUE: u32 = 5;
export const OBJ_DEVICE: u32 = 8;
export const OBJ_MULTI_STATE_INPUT: u32 = 13;
export const OBJ_MULTI_STATE_OUTPUT: u32 = 14;
export const OBJ_MULTI_STATE_VALUE: u32 = 19;

export const PROP_OUT_OF_SERVICE: u32 = 81;
export const PROP_PRESENT_VALUE: u32 = 85;
export const PROP_RELIABILITY: u32 = 103;
export const PROP_STATUS_FLAGS: u32 = 111;
export const PROP_UNITS: u32 = 117;

@inline export function isBinaryObject(type: u32): bool {
  return type >= OBJ_BINARY_INPUT && type <= OBJ_BINARY_VALUE;
}

// Object type names by number, "-" where this table names none (ASHRAE 135, 21: BACnetObjectType).
const OBJECT_NAMES = utf8("analog-input analog-output analog-value binary-input binary-output binary-value - - device - - - - \
multi-state-input multi-state-output - - - - multi-state-value");

/** Appends "analog-input 3" (or "object type 130 7" for a type this table does not name). */
export function lineObject(type: u32, instance: u32): void {
  if (type <= 19 && type != 6 && type != 7 && (type < 9 || type > 12) && (type < 15 || type > 18)) {
    lineListed(OBJECT_NAMES, <i32>type);
    lineUtf8(utf8(" "));
  } else {
    lineUtf8(utf8("object type "));
    lineNumber(<i32>type);
    lineUtf8(utf8(" "));
  }
  lineNumber(<i32>instance);
}

// The properties this decoder reads, by number, and their names in the same order.
const PROPERTY_NUMBERS = memory.data<u8>([<u8>PROP_PRESENT_VALUE, <u8>PROP_UNITS, <u8>PROP_STATUS_FLAGS, <u8>PROP_OUT_OF_SERVICE, <u8>PROP_RELIABILITY]);
const PROPERTY_NAMES = utf8("present-value units status-flags out-of-service reliability");

/** Appends the property's name ("present-value"), or "property 77". */
export function lineProperty(property: u32): void {
  for (let i = 0; i < 5; i++) if (<u32>load<u8>(PROPERTY_NUMBERS + <usize>i) == property) return lineListed(PROPERTY_NAMES, i);
  lineUtf8(utf8("property "));
  lineNumber(<i32>property);
}
