// The step's `with:` settings, read once in wg_configure from the settings document in place (with
// JsonCursor, so that key names can be copied into the output as written). The host has checked them
// against plugin.yaml and filled in its defaults; what a schema cannot guarantee (a document made
// without the host) is refused here, naming the setting, never replaced by a default.
import { JsonCursor } from "../sdk/json-cursor";
import { ERROR } from "../sdk";
import { lineStart, lineText, lineLog } from "../sdk/log-line";

export const SHAPE_SAMPLE = 0;
export const SHAPE_BUCKET = 1;
export const SHAPE_BATCH = 2;

// The keys of an object, in the order of KEY_NAMES. The first four are the static members of a point.
export const KEY_POINT = 0;
export const KEY_UNIT = 1;
export const KEY_DEVICE = 2;
export const KEY_PIPELINE = 3;
export const KEY_VALUE = 4;
export const KEY_QUALITY = 5;
export const KEY_TS = 6;
const KEY_NAMES = ["point", "unit", "device", "pipeline", "value", "quality", "ts"];
/** The keys as JsonCursor.members takes them: the members of `fields` and `include`. */
const KEYS = KEY_NAMES.join(" ");

// The members of `with:`, in the order of SETTING_NAMES.
const SETTING_NAMES = ["shape", "timestamp", "fields", "include", "decimals"];
const SETTINGS = SETTING_NAMES.join(" ");
const S_SHAPE = 0;
const S_TIMESTAMP = 1;
const S_FIELDS = 2;
const S_INCLUDE = 3;
const S_DECIMALS = 4;

export let shape = SHAPE_SAMPLE;
export let iso = false;
/** -1 for full precision, else 0..15. */
export let decimals = -1;
/** Bit k set: key k is written (include.<key> is on, and its name is not ""). */
let written = 0;

/** Per member of `with:`, the position of its value in the settings document (0: absent). */
const settings = memory.data(5 * 4);
/** Per key, the position of its name in `fields` (a string literal), or 0 (`pipeline` has none). */
const names = memory.data(7 * 4);
/** Per key, the position of its flag in `include`, or 0 (point, value and ts are always written). */
const flags = memory.data(7 * 4);

@inline function slot(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}

/** Where key `k`'s name is in the settings document (valid during wg_configure); 0 for `pipeline`. */
@inline export function nameOf(k: i32): usize {
  return slot(names, k);
}

/** Whether key `k` is written. */
@inline export function writes(k: i32): bool {
  return ((written >> k) & 1) != 0;
}

/** Logs "with.<setting> is not valid" and refuses. */
function refuse(setting: string): bool {
  lineStart();
  lineText("with.");
  lineText(setting);
  lineText(" is not valid");
  lineLog(ERROR);
  return false;
}

/** Logs that with.<setting> is absent (only a document the host did not make lacks one) and refuses. */
function missing(setting: string): bool {
  lineStart();
  lineText("with.");
  lineText(setting);
  lineText(": missing (the host fills in plugin.yaml's default)");
  lineLog(ERROR);
  return false;
}

/** Reads the `with:` object at `step`; false (logged) when a setting is absent or unusable. */
export function readOptions(c: JsonCursor, step: usize): bool {
  c.members(step, SETTINGS, settings);
  for (let s = 0; s < SETTING_NAMES.length; s++) if (slot(settings, s) == 0) return missing(SETTING_NAMES[s]);

  shape = c.oneOf(slot(settings, S_SHAPE), "sample bucket batch");
  if (shape < 0) return refuse("shape");
  const timestamp = c.oneOf(slot(settings, S_TIMESTAMP), "epoch_ms iso");
  if (timestamp < 0) return refuse("timestamp");
  iso = timestamp == 1;
  const places = c.number(slot(settings, S_DECIMALS));
  if (!(places >= -1 && places <= 15 && places == Math.floor(places))) return refuse("decimals");
  decimals = <i32>places;

  c.members(slot(settings, S_FIELDS), KEYS, names);
  c.members(slot(settings, S_INCLUDE), KEYS, flags);
  written = (1 << KEY_POINT) | (1 << KEY_VALUE) | (1 << KEY_TS);
  for (let k = 0; k < KEY_NAMES.length; k++) {
    if (k != KEY_PIPELINE) {
      const name = nameOf(k);
      if (name == 0) return missing("fields." + KEY_NAMES[k]);
      if (load<u8>(name) != 0x22) return refuse("fields"); // not a string
    }
    if (k == KEY_UNIT || k == KEY_DEVICE || k == KEY_PIPELINE || k == KEY_QUALITY) {
      const flag = slot(flags, k);
      if (flag == 0) return missing("include." + KEY_NAMES[k]);
      const first = load<u8>(flag);
      if (first != 0x74 && first != 0x66) return refuse("include"); // neither t(rue) nor f(alse)
      if (first == 0x74) written |= 1 << k;
    }
    // A key named "" is left out.
    if (k != KEY_PIPELINE && load<u8>(nameOf(k), 1) == 0x22) written &= ~(1 << k);
  }
  return true;
}
