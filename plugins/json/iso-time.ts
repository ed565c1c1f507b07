// ISO 8601 UTC timestamps with milliseconds, as Date.prototype.toISOString writes them:
// "2026-11-23T21:04:05.123Z". Fractions of a millisecond are floored (toward the past, before 1970 too),
// so a timestamp never reads later than the instant it stands for. Only ISO 8601's four-digit years,
// 0000 to 9999, are written; before and after (where toISOString switches to a signed six-digit year)
// and for NaN: null.
import { putDigits } from "./digits";

/** Writes the quoted ISO string for `ms` since the epoch (or null). */
export function putIso(at: usize, ms: f64): usize {
  if (!(ms >= -62167219200000 && ms < 253402300800000)) {
    store<u32>(at, 0x6c6c756e); // null
    return at + 4;
  }
  // Shifted by 700 eras of 400 years (102,267,900 days), the time is never negative, so / and % floor,
  // and so do the era divisions below.
  const shifted = <i64>Math.floor(ms) + 8835946560000000;
  const inDay = <u32>(shifted % 86400000);
  // Days since 0000-03-01 (plus the 700 eras), so that leap days end a year (H. Hinnant's
  // civil-from-days).
  const z = <i32>(shifted / 86400000) + 719468;
  const era = z / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 - 280000 + <i32>(month <= 2);

  store<u8>(at++, 0x22);
  at = putDigits(at, <u64>year, 4);
  at = field(at, 0x2d, month, 2);
  at = field(at, 0x2d, doy - (153 * mp + 2) / 5 + 1, 2);
  at = field(at, 0x54, inDay / 3600000, 2);
  at = field(at, 0x3a, inDay / 60000 % 60, 2);
  at = field(at, 0x3a, inDay / 1000 % 60, 2);
  at = field(at, 0x2e, inDay % 1000, 3);
  store<u16>(at, 0x225a); // Z"
  return at + 2;
}

function field(at: usize, separator: u8, v: u32, width: i32): usize {
  store<u8>(at, separator);
  return putDigits(at + 1, v, width);
}
