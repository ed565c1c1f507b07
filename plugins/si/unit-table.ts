// The units si knows, as one readable table that is parsed once at configure. Written as text rather
// than as parallel number arrays so that each unit's spellings and definition sit on one line.
//
// Format: a line "# <quantity>" opens a quantity; the unit right after it is that quantity's SI
// coherent unit (factor 1, no offset). Each unit line is
//   <canonical spelling> <aliases...>|<factor>[|<offset>]
// meaning: value in SI = (value + offset) × factor. Factors and offsets are exact decimals, or a
// quotient of two, read as exact integer ratios so that conversions compose without rounding
// (conversion.ts). Spellings are case-sensitive (mW is not MW) and contain no spaces.
//
// Definitions (exact by definition unless noted):
//   degC: T/K = t/°C + 273.15 (SI Brochure, 9th ed., 2.3.1).
//   degF: T/K = (t/°F + 459.67) × 5/9 (NIST SP 811, B.8).
//   psi: lbf/in²; lbf = 0.45359237 kg × 9.80665 m/s² = 4.4482216152605 N, in² = 0.0254² m² =
//     0.00064516 m²; so 1 psi = 6894.757293168361336… Pa (nearest double 6894.757293168362).
//   atm: 101325 Pa (10th CGPM, 1954). mmHg: conventional, 13595.1 kg/m³ × 0.001 m × 9.80665 m/s².
//   in, ft, lb, mile: international yard and pound agreement (1959): 0.0254 m, 0.3048 m,
//     0.45359237 kg, 1609.344 m. Nautical mile (kn = 1 nmi/h): 1852 m.
//   gpm: US gallon = 231 in³ = 3.785411784 L, per minute. l = 0.001 m³ (12th CGPM, 1964).
//   Wh = 3600 J. rpm: one revolution per minute = 1/60 s⁻¹. %: 0.01.
const TABLE = `# temperature
K kelvin|1
degC °C ℃ C celsius|1|273.15
degF °F ℉ F fahrenheit|5/9|459.67
# pressure
Pa pascal|1
hPa|100
kPa|1000
MPa|1000000
mbar|100
bar|100000
psi|4.4482216152605/0.00064516
atm|101325
mmHg|133.322387415
# volumetric flow
m3/s m³/s|1
m3/h m³/h|1/3600
l/s L/s|0.001
l/min L/min lpm|0.001/60
l/h L/h|0.001/3600
gpm gal/min|0.003785411784/60
# energy
J joule|1
kJ|1000
MJ|1000000
Wh|3600
kWh|3600000
MWh|3600000000
# power
W watt|1
kW|1000
MW|1000000
# length
m metre meter|1
mm|0.001
cm|0.01
km|1000
in inch|0.0254
ft foot|0.3048
# mass
kg|1
g|0.001
t tonne|1000
lb lbs|0.45359237
# speed
m/s|1
km/h kph|1000/3600
mph|1609.344/3600
kn knot|1852/3600
# ratio
ratio|1
% percent|0.01
# frequency
Hz|1
kHz|1000
rpm rev/min r/min|1/60
`;

const MAX_ROWS = 64;
const MAX_QUANTITIES = 16;

/** One unit of the table; spelling positions are UTF-16 indexes into TABLE. */
@unmanaged class UnitRow {
  spellStart: i32;
  spellEnd: i32;
  canonicalEnd: i32;
  quantity: i32;
  factorNum: f64;
  factorDen: f64;
  offsetNum: f64;
  offsetDen: f64;
}

/** One quantity: where its name is in TABLE, and the row of its SI coherent unit. */
@unmanaged class Quantity {
  nameStart: i32;
  nameEnd: i32;
  si: i32;
}

const ROWS = memory.data(MAX_ROWS * offsetof<UnitRow>(), 8);
const QUANTITIES = memory.data(MAX_QUANTITIES * offsetof<Quantity>(), 4);
@inline function row(r: i32): UnitRow { return changetype<UnitRow>(ROWS + <usize>r * offsetof<UnitRow>()); }
@inline function quantity(q: i32): Quantity { return changetype<Quantity>(QUANTITIES + <usize>q * offsetof<Quantity>()); }

// The table is read where it is, as UTF-16: no UTF-8 copy, no encoder in the module.
const TABLE_END = TABLE.length;
@inline function ch(i: i32): i32 { return <i32>load<u16>(changetype<usize>(TABLE) + (<usize>i << 1)); }

let rows = 0;

// The last number read: mantissa / 10^places (both exact), and where it ended.
let mantissa: f64 = 0;
let places: i32 = 0;
let numEnd = 0;
// The last ratio read.
let ratioNum: f64 = 1;
let ratioDen: f64 = 1;

function pow10(n: i32): f64 {
  let r: f64 = 1;
  for (let i = 0; i < n; i++) r *= 10;
  return r;
}

function readDecimal(i: i32): void {
  while (ch(i) == 0x20) i++;
  mantissa = 0;
  places = 0;
  let fraction = false;
  for (; i < TABLE_END; i++) {
    const c = ch(i);
    if (c == 0x2e) { fraction = true; continue; }
    if (c < 0x30 || c > 0x39) break;
    mantissa = mantissa * 10 + <f64>(c - 0x30);
    if (fraction) places++;
  }
  numEnd = i;
}

// "x" or "x/y" as whole numbers: x/y = (mx / 10^px) / (my / 10^py), powers of ten cancelled first so
// that e.g. 4.4482216152605/0.00064516 stays 44482216152605 / 6451600000, both exact.
function readRatio(i: i32): void {
  readDecimal(i);
  const mx = mantissa;
  const px = places;
  let my: f64 = 1;
  let py = 0;
  if (ch(numEnd) == 0x2f) {
    readDecimal(numEnd + 1);
    my = mantissa;
    py = places;
  }
  ratioNum = px >= py ? mx : mx * pow10(py - px);
  ratioDen = px >= py ? my * pow10(px - py) : my;
}

/** Parses the table once; later calls do nothing. */
export function loadUnits(): void {
  if (rows != 0) return;
  let q = -1;
  let i = 0;
  while (i < TABLE_END) {
    let eol = i;
    while (eol < TABLE_END && ch(eol) != 0x0a) eol++;
    if (ch(i) == 0x23) {
      const it = quantity(++q);
      it.nameStart = i + 2;
      it.nameEnd = eol;
      it.si = rows;
    } else if (eol > i && rows < MAX_ROWS) {
      const it = row(rows++);
      let bar = i;
      while (ch(bar) != 0x7c) bar++;
      let canon = i;
      while (canon < bar && ch(canon) != 0x20) canon++;
      it.spellStart = i;
      it.spellEnd = bar;
      it.canonicalEnd = canon;
      it.quantity = q;
      readRatio(bar + 1);
      it.factorNum = ratioNum;
      it.factorDen = ratioDen;
      ratioNum = 0;
      ratioDen = 1;
      while (numEnd < eol && ch(numEnd) != 0x7c) numEnd++;
      if (numEnd < eol) readRatio(numEnd + 1);
      it.offsetNum = ratioNum;
      it.offsetDen = ratioDen;
    }
    i = eol + 1;
  }
}

/**
 * Whether the `len` UTF-8 bytes at `ptr` spell TABLE[start..end). Spellings are in the Basic
 * Multilingual Plane, so a character is one UTF-16 unit and at most three UTF-8 bytes.
 */
function spells(ptr: usize, len: i32, start: i32, end: i32): bool {
  const stop = ptr + <usize>len;
  let i = start;
  while (ptr < stop) {
    let c = <i32>load<u8>(ptr++);
    if (c >= 0xf0) return false;
    if (c >= 0xe0 && ptr + 1 < stop) {
      c = ((c & 0x0f) << 12) | ((<i32>load<u8>(ptr) & 0x3f) << 6) | (<i32>load<u8>(ptr, 1) & 0x3f);
      ptr += 2;
    } else if (c >= 0xc0 && ptr < stop) {
      c = ((c & 0x1f) << 6) | (<i32>load<u8>(ptr++) & 0x3f);
    }
    if (i >= end || ch(i) != c) return false;
    i++;
  }
  return i == end;
}

/** Row of the unit spelt by the `len` UTF-8 bytes at `ptr`; -1 when no unit is spelt so. */
export function findUnit(ptr: usize, len: i32): i32 {
  if (len <= 0) return -1;
  for (let r = 0; r < rows; r++) {
    let i = row(r).spellStart;
    const end = row(r).spellEnd;
    while (i < end) {
      let j = i;
      while (j < end && ch(j) != 0x20) j++;
      if (spells(ptr, len, i, j)) return r;
      i = j + 1;
    }
  }
  return -1;
}

// Row accessors. `r` is always a row findUnit or siUnitOf returned.
/** Row of the SI coherent unit of the quantity of row `r`. */
export function siUnitOf(r: i32): i32 { return quantity(row(r).quantity).si; }
@inline export function quantityOf(r: i32): i32 { return row(r).quantity; }
@inline export function factorNumOf(r: i32): f64 { return row(r).factorNum; }
@inline export function factorDenOf(r: i32): f64 { return row(r).factorDen; }
@inline export function offsetNumOf(r: i32): f64 { return row(r).offsetNum; }
@inline export function offsetDenOf(r: i32): f64 { return row(r).offsetDen; }

// Canonical spellings and quantity names are ASCII, so each UTF-16 unit of them is one UTF-8 byte.
/** Length in bytes of the canonical spelling of row `r`. */
@inline export function canonicalLength(r: i32): i32 { return row(r).canonicalEnd - row(r).spellStart; }
/** Whether the `len` UTF-8 bytes at `ptr` are the canonical spelling of row `r`. */
export function isCanonical(r: i32, ptr: usize, len: i32): bool { return spells(ptr, len, row(r).spellStart, row(r).canonicalEnd); }
/** Writes the canonical spelling of row `r` at `out`; returns its length in bytes. */
export function writeCanonical(r: i32, out: usize): i32 { return writeAscii(row(r).spellStart, row(r).canonicalEnd, out); }
/** Writes the name of the quantity of row `r` at `out`; returns its length in bytes. */
export function writeQuantityName(r: i32, out: usize): i32 {
  const it = quantity(row(r).quantity);
  return writeAscii(it.nameStart, it.nameEnd, out);
}

function writeAscii(start: i32, end: i32, out: usize): i32 {
  for (let i = start; i < end; i++) store<u8>(out + <usize>(i - start), <u8>ch(i));
  return end - start;
}
