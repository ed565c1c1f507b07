// Status values of ABI v1 (docs/plugin-abi.md, "Status values").
export const OK: i32 = 0;
export const UNCHANGED: i32 = -1;
export const BAD_SETTINGS: i32 = -2;
export const BAD_INPUT: i32 = -3;
export const NO_MEMORY: i32 = -4;
export const BAD_FRAME: i32 = -5;
export const OUT_OF_RANGE: i32 = -6;
// ABI 1.2: wg_write refuses the write (why was logged at error level).
export const REFUSED: i32 = -7;

// Sample quality codes.
export const GOOD: u8 = 0;
export const SUSPECT: u8 = 1;
export const BAD: u8 = 2;
export const NO_COMM: u8 = 3;

// Sample types.
export const TYPE_NUMBER: u8 = 0;
export const TYPE_BOOL: u8 = 1;
export const TYPE_TEXT: u8 = 2;

// Aggregates.
export const AGG_RAW: u8 = 0;
export const AGG_MEAN: u8 = 1;
export const AGG_MIN: u8 = 2;
export const AGG_MAX: u8 = 3;
export const AGG_FIRST: u8 = 4;
export const AGG_LAST: u8 = 5;
export const AGG_COUNT: u8 = 6;
export const AGG_SUM: u8 = 7;
