// si: converts each point from the unit it declares to SI, or to a unit the settings name, in place.
// Everything is decided at configure: per point one Conversion (conversion.ts), so the data path is
// one correctly rounded division, or a few error-free multiply-adds, per sample.
import {
  input, setResult, reserveOutput, sampleCount, OK, UNCHANGED, BAD_SETTINGS, BAD_INPUT,
  BATCH_HEADER, SAMPLE_SIZE, AGG_SUM, AGG_COUNT, BAD, TYPE_NUMBER, setValue,
} from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { loadUnits, findUnit, siUnitOf, quantityOf, canonicalLength, isCanonical, writeCanonical } from "./unit-table";
import { Conversion, compose, apply } from "./conversion";
import { beginProblems, problemCount, problemStart, problemEnd, refuseLine, say, sayBytes, sayUnit } from "./problems";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// The members si reads, of the settings document, of `with:`, of a point, of a with.points entry: one
// list for all (each object simply lacks the others).
const KEYS = "to on_unknown points with name unit type";
const K_TO = 0;
const K_ON_UNKNOWN = 1;
const K_POINTS = 2;
const K_WITH = 3;
const K_NAME = 4;
const K_UNIT = 5;
const K_TYPE = 6;
const found = memory.data(4 * 7);
// The words si compares string values with.
const WORDS = "reject pass si bool string";
const W_PASS = 1;
const W_SI = 2;
const W_BOOL = 3;
@inline function at(k: i32): usize {
  return <usize>load<u32>(found + <usize>k * 4);
}

// `to` names a unit row, or one of these.
const TO_SI = -2;
const TO_UNKNOWN = -1;

// Per point, by id, for configure and wg_units: where the point's object and its own `to` are in the
// settings document (0: none), and the unit row wg_units reports (-1: unchanged).
@unmanaged class PointEntry {
  at: u32;
  ownTo: u32;
  label: i32;
}
let pointCount = 0;
// Per point, by id, for the data path.
let conversions: usize = 0;
let entries: usize = 0;
let anyConverted = false;
@inline function conversionOf(id: i32): Conversion {
  return changetype<Conversion>(conversions + <usize>id * offsetof<Conversion>());
}
@inline function entryOf(id: i32): PointEntry {
  return changetype<PointEntry>(entries + <usize>id * offsetof<PointEntry>());
}

const json = new JsonCursor(0, 0);
// Set when a point has already reported with.to as an unknown unit.
let globalToReported = false;

/** Appends the text of the JSON string at `p`, as written. */
function sayText(p: usize): void {
  sayBytes(p + 1, json.textLength(p));
}

/** Unit row the JSON string at `p` names, or TO_SI, or TO_UNKNOWN. */
function targetRow(p: usize): i32 {
  if (json.oneOf(p, WORDS) == W_SI) return TO_SI;
  return findUnit(p + 1, json.textLength(p));
}

/** Starts a problem line about point `name` with the setting it comes from: with.to or with.points.<name>.to. */
function problemAbout(name: usize, own: bool): void {
  if (own) {
    problemStart("with.points.");
    sayText(name);
    say(".to: ");
  } else {
    problemStart("with.to: ");
  }
}

/**
 * Sets the conversion and label of point `id`, or logs a problem and leaves the point unchanged;
 * true when the point's values change.
 */
function plan(id: i32, globalTo: usize, globalRow: i32): bool {
  const entry = entryOf(id);
  const ownTo = <usize>entry.ownTo;
  json.members(<usize>entry.at, KEYS, found);
  const name = at(K_NAME);
  const unit = at(K_UNIT);
  const unitLength = json.textLength(unit);
  // Bools and text carry no engineering unit to convert.
  if (json.oneOf(at(K_TYPE), WORDS) >= W_BOOL) return false;
  const own = ownTo != 0;
  // A point without a unit is left alone, unless its own `to` asks for a conversion.
  if (unitLength == 0 && !own) return false;
  const from = findUnit(unit + 1, unitLength);
  if (from < 0) {
    problemAbout(name, own);
    say("point \"");
    sayText(name);
    say("\" has unit \"");
    sayText(unit);
    say("\", which si does not know");
    problemEnd();
    return false;
  }
  let to = own ? targetRow(ownTo) : globalRow;
  if (to == TO_SI) to = siUnitOf(from);
  if (to == TO_UNKNOWN) {
    if (!own) globalToReported = true;
    problemAbout(name, own);
    say("unknown unit \"");
    sayText(own ? ownTo : globalTo);
    say("\" for point \"");
    sayText(name);
    say("\"");
    problemEnd();
    return false;
  }
  if (quantityOf(from) != quantityOf(to)) {
    problemAbout(name, own);
    say("cannot convert point \"");
    sayText(name);
    say("\" from ");
    sayUnit(from);
    say(" to ");
    sayUnit(to);
    problemEnd();
    return false;
  }
  const c = conversionOf(id);
  compose(c, from, to);
  // Report the canonical spelling whenever it differs from what the point declared.
  entry.label = isCanonical(to, unit + 1, unitLength) ? -1 : to;
  // Dividing by 1 is the conversion that changes nothing (mbar → hPa).
  return c.divisor != 1;
}

/** Id of the point whose name is the JSON string at `key`, or -1. */
function pointNamed(key: usize): i32 {
  const len = json.textLength(key);
  for (let id = 0; id < pointCount; id++) {
    json.members(<usize>entryOf(id).at, KEYS, found);
    const name = at(K_NAME);
    if (json.textLength(name) == len && memory.compare(name + 1, key + 1, <usize>len) == 0) return id;
  }
  return -1;
}

/** Starts a line about with.points.<key>. */
function overrideLine(key: usize): void {
  problemStart("with.points.");
  sayText(key);
}

/** Refuses a document without `with.<key>`, which the host fills in from plugin.yaml. */
function missing(key: string): i32 {
  problemStart("with.");
  say(key);
  say(": missing (the host fills in plugin.yaml's default)");
  return refuseLine();
}

export function wg_configure(size: i32): i32 {
  loadUnits();
  json.start = input();
  json.end = input() + <usize>size;
  json.members(json.root, KEYS, found);
  const points = at(K_POINTS);
  json.members(at(K_WITH), KEYS, found);
  const globalTo = at(K_TO);
  const onUnknown = at(K_ON_UNKNOWN);
  const overrides = at(K_POINTS);

  if (onUnknown == 0) return missing("on_unknown");
  if (globalTo == 0) return missing("to");
  const mode = json.oneOf(onUnknown, WORDS);
  if (mode < 0 || mode > W_PASS) {
    problemStart("with.on_unknown: expected \"reject\" or \"pass\"");
    return refuseLine();
  }
  const reject = mode != W_PASS;
  if (json.textLength(globalTo) == 0) {
    problemStart("with.to: expected \"si\" or a unit");
    return refuseLine();
  }
  const globalRow = targetRow(globalTo);

  const n = json.count(points);
  pointCount = n;
  conversions = heap.alloc(<usize>n * offsetof<Conversion>());
  entries = heap.alloc(<usize>n * offsetof<PointEntry>());
  let id = 0;
  for (let p = json.first(points); p != 0; p = json.next(p)) {
    const entry = entryOf(id);
    entry.at = <u32>p;
    entry.ownTo = 0;
    entry.label = -1;
    // x / 1 is x for every x, −0 and NaN included. Only `divisor` is set: apply() reads nothing else
    // when it is non-zero, and the sum check's read of bHead cannot matter (skipped or divided by 1,
    // the sum is unchanged).
    conversionOf(id).divisor = 1;
    id++;
  }

  // with.points: { <point name>: { to } }, matched to points by the name's bytes as written.
  for (let k = json.first(overrides); k != 0; k = json.next(k)) {
    const own = pointNamed(k);
    if (own < 0) {
      overrideLine(k);
      say(": no point of that name");
      return refuseLine();
    }
    // The entry's value starts after the colon that follows the key.
    json.members(json.blank(json.blank(json.skip(k)) + 1), KEYS, found);
    if (json.textLength(at(K_TO)) == 0) {
      overrideLine(k);
      say(".to: expected \"si\" or a unit");
      return refuseLine();
    }
    entryOf(own).ownTo = <u32>at(K_TO);
  }

  beginProblems(reject);
  anyConverted = false;
  globalToReported = false;
  for (let i = 0; i < n; i++) if (plan(i, globalTo, globalRow)) anyConverted = true;
  // A misspelt with.to is a problem even when no point reached it.
  if (globalRow == TO_UNKNOWN && !globalToReported) {
    problemStart("with.to: unknown unit \"");
    sayText(globalTo);
    say("\"");
    problemEnd();
  }
  return reject && problemCount() > 0 ? BAD_SETTINGS : OK;
}

/** Units after this step: the canonical spelling of each converted point's target, "" otherwise. */
export function wg_units(): i32 {
  let need = 0;
  for (let i = 0; i < pointCount; i++) {
    const r = entryOf(i).label;
    need += 2 + (r >= 0 ? canonicalLength(r) : 0);
  }
  const out = reserveOutput(need, 0);
  let pos = out;
  for (let i = 0; i < pointCount; i++) {
    const r = entryOf(i).label;
    const len = r >= 0 ? writeCanonical(r, pos + 2) : 0;
    store<u16>(pos, <u16>len);
    pos += 2 + <usize>len;
  }
  setResult(out);
  return need;
}

export function wg_process(size: i32): i32 {
  if (!anyConverted) return UNCHANGED;
  const batch = input();
  const count = sampleCount(batch);
  if (size < BATCH_HEADER || count > (size - BATCH_HEADER) / SAMPLE_SIZE) return BAD_INPUT;
  const limit = <u32>pointCount;
  const table = conversions;
  const end = batch + <usize>BATCH_HEADER + <usize>count * SAMPLE_SIZE;
  for (let rec = batch + <usize>BATCH_HEADER; rec < end; rec += SAMPLE_SIZE) {
    const p = load<u32>(rec, 16);
    if (p >= limit) continue;
    const c = changetype<Conversion>(table + <usize>p * offsetof<Conversion>());
    // Bytes 20..23: quality, type, aggregate, reserved. A raw number of quality good (0) or suspect
    // (1) is the common case and takes one test.
    const flags = load<u32>(rec, 20);
    if ((flags & 0xfffffffe) != 0) {
      // Bad and no-comm samples, bools and text, counts and unknown aggregates pass untouched.
      const agg = (flags >> 16) & 0xff;
      if ((flags & 0xff) >= BAD || ((flags >> 8) & 0xff) != TYPE_NUMBER || agg > AGG_SUM || agg == AGG_COUNT) continue;
      // A sum scales with the factor; an offset would need the count, so an affine sum is left as is.
      if (agg == AGG_SUM && c.bHead != 0) continue;
    }
    setValue(rec, apply(c, load<f64>(rec, 8)));
  }
  setResult(batch);
  return size;
}
