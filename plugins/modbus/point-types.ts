// Point types and byte orders as a point's `type` and `order` settings name them, and the room each
// type takes in a response.

// Type codes, in the order of TYPE_WORDS: grouped by size, so that a comparison tells the size.
export const T_BOOL: i32 = 0; // one bit of a register (function 3/4, setting `bit`)
export const T_INT16: i32 = 1;
export const T_UINT16: i32 = 2;
export const T_INT32: i32 = 3; // first of the 2-register types
export const T_UINT32: i32 = 4;
export const T_FLOAT32: i32 = 5;
export const T_INT64: i32 = 6; // first of the 4-register types
export const T_UINT64: i32 = 7;
export const T_FLOAT64: i32 = 8;
export const T_STRING: i32 = 9;
// Not a name a point can give: a bool read by function 1/2, one bit of the response's bit field.
export const T_COIL: i32 = 10;

/** Type names, space-separated, in the order of the codes. */
export const TYPE_WORDS = "bool int16 uint16 int32 uint32 float32 int64 uint64 float64 string";

// Order codes are two flags, so decoding tests bits instead of names:
//   bit 0 set: the two bytes inside each register are least significant first (BADC, DCBA);
//   bit 1 set: the registers are least significant first (CDAB, DCBA).
/** Order names, space-separated, in the order of the codes. */
export const ORDER_WORDS = "ABCD BADC CDAB DCBA";

/** Registers a value of type `code` takes (a string: its `length`, not known here). */
export function typeRegisters(code: i32): i32 {
  return code < T_INT32 ? 1 : code < T_INT64 ? 2 : 4;
}

// Access codes, in the order of ACCESS_WORDS: a point may be written unless it is A_READ.
export const A_READ: i32 = 0;
export const A_WRITE: i32 = 1;
export const A_READ_WRITE: i32 = 2;
/** Access names, space-separated, in the order of the codes. */
export const ACCESS_WORDS = "read write read_write";
