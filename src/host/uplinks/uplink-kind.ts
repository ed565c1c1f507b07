/**
 * An uplink kind: one way of sending messages to the cloud, declared once, as a source kind is
 * (src/host/sources/source-kind.ts). Its schema fragment (the settings under `uplinks.<name>.<kind>`),
 * its checks, its resolution into a frozen `ResolvedUplink` and the factory of its sink all live in
 * its own file and are registered in uplink-kinds.ts. Nothing else in the host names a kind.
 */
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { ResolvedUplink } from '../config/resolved.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';

/** What resolution needs besides the uplink's own settings. */
export interface UplinkContext {
  gatewayId: string;
  /** The gateway file's directory: relative paths are relative to it. */
  base: string;
}

export interface UplinkKind<Doc = unknown> {
  /** The key under `uplinks.<name>:`. */
  readonly name: string;
  /** One paragraph for docs/config.md. */
  readonly summary: string;
  /** JSON Schema of `uplinks.<name>.<kind>`, closed, with its defaults. */
  readonly schema: Record<string, unknown>;
  /** What the schema cannot say; `at` is the path of the kind's settings. */
  check(doc: Doc, at: SettingPath, checks: SettingChecks): Promise<void>;
  /** Only called on a checked document. */
  resolve(name: string, doc: Doc, context: UplinkContext): Promise<ResolvedUplink>;
  /** The uplink's sink, not started. */
  sink(uplink: ResolvedUplink, logger: Logger): Promise<Sink>;
}
