// Per-point settings of a transform step: each key of `with:` applies to every point, and
// `with.points.<point name>` overrides keys for that one point. Read once in wg_configure, straight
// from the settings document with JsonCursor (no tree, no string decoding: it keeps plugins small).
// Each reader checks the value even though the host has checked `with:` against the manifest: a wrong
// value must be refused, naming the setting, never replaced by a default. Error lines are built in the
// SDK's line buffer (log-line.ts): setting paths hold point names as raw UTF-8 from the document, so
// names are appended as bytes, never decoded into strings.
import { input } from "./io";
import { ERROR } from "./log";
import { lineStart, lineText, lineUtf8, lineBytes, lineWord, lineLog } from "./log-line";
import { utf8 } from "./utf8";
import { JsonCursor } from "./json-cursor";

/** Most keys a step may declare. */
export const MAX_KEYS: i32 = 16;
// Positions of each key's value in `with:` and in the selected point's entry (u32 each, 0: absent).
const top = memory.data(MAX_KEYS * 4);
const own = memory.data(MAX_KEYS * 4);

/**
 * The settings of every point of a step, for keys given once as a space-separated list whose positions
 * are the key indexes (at most MAX_KEYS):
 *   const own = new PointSettings(size, "window threshold");
 *   if (!own.read()) return BAD_SETTINGS;
 *   for (let p = 0; p < own.count; p++) { own.select(p); const w = own.whole(0, 20, 3, 1024, ": must be ..."); }
 */
export class PointSettings {
  /** Points in the settings document (`points[]`). */
  count: i32 = 0;
  private json: JsonCursor;
  /** The step's keys, space-separated, at most MAX_KEYS. */
  private keys: string;
  /** Per point, u32 each: position of its name, and of its `with.points` entry (0: none). */
  private names: usize = 0;
  private overrides: usize = 0;
  private point: i32 = 0;

  constructor(size: i32, keys: string) {
    this.json = new JsonCursor(input(), input() + <usize>size);
    this.keys = keys;
  }

  /**
   * Finds `with:`, the points and their entries in `with.points`. False (after logging which entry is
   * wrong) when the document is not an object, or an entry names a point the pipeline does not have or
   * is not an object.
   */
  read(): bool {
    const json = this.json;
    lineStart();
    if (json.root >= json.end || load<u8>(json.root) != 0x7b) {
      lineUtf8(utf8("settings: not a JSON object"));
      return this.send();
    }
    const doc = top; // borrowed for the document's two members, then filled for good below
    json.members(json.root, "with points", doc);
    const step = <usize>load<u32>(doc);
    const points = <usize>load<u32>(doc, 4);
    const n = json.count(points);
    this.count = n;
    this.names = heap.alloc(<usize>n << 2);
    this.overrides = heap.alloc(<usize>n << 2);
    memory.fill(this.overrides, 0, <usize>n << 2);
    let at = this.names;
    for (let e = json.first(points); e != 0; e = json.next(e)) {
      json.members(e, "name", at);
      at += 4;
    }
    json.members(step, "points", own);
    const entries = <usize>load<u32>(own);
    json.members(step, this.keys, top);
    for (let k = json.first(entries); k != 0; k = json.next(k)) {
      const p = this.find(k);
      const colon = json.blank(json.skip(k));
      const entry = colon < json.end ? json.blank(colon + 1) : json.end;
      const object = entry < json.end && load<u8>(entry) == 0x7b;
      if (p < 0 || !object) {
        lineUtf8(utf8("with.points."));
        lineBytes(k + 1, json.textLength(k));
        lineUtf8(p < 0 ? utf8(": no point of that name") : utf8(": expected an object"));
        return this.send();
      }
      store<u32>(this.overrides + (<usize>p << 2), <u32>entry);
    }
    // No point selected yet: the readers answer for `with:` itself (a step-wide setting).
    memory.fill(own, 0, MAX_KEYS * 4);
    return true;
  }

  /** Id of the point whose name is the JSON string at `key`, or -1. */
  private find(key: usize): i32 {
    const len = this.json.textLength(key);
    for (let p = 0; p < this.count; p++) {
      const name = <usize>load<u32>(this.names + (<usize>p << 2));
      if (this.json.textLength(name) != len) continue;
      let i = 1;
      while (i <= len && load<u8>(name + <usize>i) == load<u8>(key + <usize>i)) i++;
      if (i > len) return p;
    }
    return -1;
  }

  /** Whether the selected point has an entry of its own in `with.points`. */
  get overridden(): bool {
    return this.point < this.count && load<u32>(this.overrides + (<usize>this.point << 2)) != 0;
  }

  /** Makes point `p` the one the readers below answer for (before any, they answer for `with:`). */
  select(p: i32): void {
    this.point = p;
    const entry = <usize>load<u32>(this.overrides + (<usize>p << 2));
    this.json.members(entry, this.keys, own); // all absent when entry is 0
  }

  /** The document, to read a value at a position `at` gives (JsonCursor: `number`, `textLength`...). */
  get cursor(): JsonCursor {
    return this.json;
  }

  /**
   * Position of key `k`'s value for the selected point (its own entry's, else `with:`'s; 0: absent),
   * for values the readers below do not read (a negative number, a text): read it with `cursor`.
   */
  at(k: i32): usize {
    return this.value(k);
  }

  /**
   * Logs "with.points.<name>.<key k><what>" for the selected point, whether or not its entry has the
   * key (a key missing from its entry); returns false.
   */
  refuseOwn(k: i32, what: string): bool {
    lineStart();
    const name = <usize>load<u32>(this.names + (<usize>this.point << 2));
    lineUtf8(utf8("with.points."));
    lineBytes(name + 1, this.json.textLength(name));
    lineUtf8(utf8("."));
    lineWord(this.keys, k);
    lineText(what);
    return this.send();
  }

  /** Position of key `k`'s value for the selected point: its own entry's, else `with:`'s; 0: absent. */
  private value(k: i32): usize {
    const mine = <usize>load<u32>(own + (<usize>k << 2));
    return mine != 0 ? mine : <usize>load<u32>(top + (<usize>k << 2));
  }

  /** Appends where the selected point takes key `k` from: `with.points.<name>.<key>` or `with.<key>`. */
  private putPath(k: i32): void {
    if (load<u32>(own + (<usize>k << 2)) != 0) {
      const name = <usize>load<u32>(this.names + (<usize>this.point << 2));
      lineUtf8(utf8("with.points."));
      lineBytes(name + 1, this.json.textLength(name));
      lineUtf8(utf8("."));
    } else {
      lineUtf8(utf8("with."));
    }
    lineWord(this.keys, k);
  }

  /**
   * Logs "<path of k><what>", then the path of `other` unless it is -1 (a contradiction names both
   * settings), at error level; returns false, for `return settings.refuse(...)`.
   */
  refuse(k: i32, what: string, other: i32): bool {
    lineStart();
    this.putPath(k);
    lineText(what);
    if (other >= 0) this.putPath(other);
    return this.send();
  }

  private send(): bool {
    lineLog(ERROR);
    return false;
  }

  /**
   * Key `k` as a finite number, at least 0 (above 0 when `positive`), `fallback` when absent; NaN
   * after logging "<path><rule>" otherwise (rule: ": must be ...").
   */
  number(k: i32, fallback: f64, positive: bool, rule: string): f64 {
    const at = this.value(k);
    if (at == 0) return fallback;
    const x = this.json.number(at);
    if (x < Infinity && (positive ? x > 0 : x >= 0)) return x;
    this.refuse(k, rule, -1);
    return NaN;
  }

  /**
   * Key `k` as a whole number within lo..hi (lo >= 0), `fallback` when absent; -1 after logging
   * "<path><rule>" otherwise.
   */
  whole(k: i32, fallback: i32, lo: i32, hi: i32, rule: string): i32 {
    const at = this.value(k);
    if (at == 0) return fallback;
    const x = this.json.number(at);
    if (x >= <f64>lo && x <= <f64>hi && Math.floor(x) == x) return <i32>x;
    this.refuse(k, rule, -1);
    return -1;
  }

  /**
   * Key `k` as a list of distinct entries of the space-separated `words` (at most 15 words), packed
   * four bits each as index + 1, the first entry in the low bits, so at most 7 entries; 0 for `[]`;
   * `fallback` when absent; -1 after logging "<path>: must be a list of distinct words of <words>,
   * at most 7" otherwise.
   */
  choices(k: i32, words: string, fallback: i32): i32 {
    const at = this.value(k);
    if (at == 0) return fallback;
    const json = this.json;
    let packed: u32 = 0;
    let seen: u32 = 0;
    let n = 0;
    let ok = load<u8>(at) == 0x5b;
    for (let e = json.first(at); ok && e != 0; e = json.next(e)) {
      const index = json.oneOf(e, words);
      ok = index >= 0 && (seen & (1 << index)) == 0 && n < 7;
      seen |= 1 << index;
      packed |= <u32>(index + 1) << (<u32>n << 2);
      n++;
    }
    if (ok) return <i32>packed;
    lineStart();
    this.putPath(k);
    lineUtf8(utf8(": must be a list of distinct words of "));
    lineText(words);
    lineUtf8(utf8(", at most 7"));
    this.send();
    return -1;
  }

  /**
   * Key `k` as the index of its value among the space-separated `words`, `fallback` when absent; -1
   * after logging "<path>: must be one of <words>" otherwise.
   */
  choice(k: i32, words: string, fallback: i32): i32 {
    const at = this.value(k);
    if (at == 0) return fallback;
    const index = this.json.oneOf(at, words);
    if (index < 0) {
      lineStart();
      this.putPath(k);
      lineUtf8(utf8(": must be one of "));
      lineText(words);
      this.send();
    }
    return index;
  }
}
