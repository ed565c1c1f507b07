// The settings document a step receives in wg_configure, with lookups plugins need.
import { input } from "./io";
import { Json, parseJson, J_ARRAY } from "./json";
import { ERROR } from "./log";
import { lineStart, lineUtf8, lineLog } from "./log-line";
import { utf8 } from "./utf8";

export class Settings {
  constructor(public doc: Json) {}

  /** This step's `with:` settings (defaults already applied by the host). */
  get step(): Json { return this.doc.child("with"); }
  get pipeline(): string { return this.doc.string("pipeline", ""); }
  get points(): Json { return this.doc.child("points"); }
  get devices(): Json { return this.doc.child("devices"); }
  get pointCount(): i32 { return this.points.kind == J_ARRAY ? this.points.length : 0; }

  point(id: i32): Json { return this.points.at(id); }
  pointName(id: i32): string { return this.point(id).string("name", ""); }

  /** Id of the point called `name`, or -1. */
  pointId(name: string): i32 {
    const pts = this.points;
    for (let i = 0; i < pts.length; i++) if (pts.at(i).string("name", "") == name) return i;
    return -1;
  }
}

/** Parses the settings document wg_configure received; logs and returns null when it is malformed. */
export function readSettings(size: i32): Settings | null {
  const doc = parseJson(input(), size);
  if (doc === null) {
    lineStart();
    lineUtf8(utf8("settings document is not valid JSON"));
    lineLog(ERROR);
    return null;
  }
  return new Settings(doc);
}
