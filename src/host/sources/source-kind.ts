/**
 * A source kind: how one way of reaching field devices is declared, once, like a Redpanda Connect
 * component. Its schema fragment (the settings under `source.<name>`), its checks, its resolution into
 * the frozen `ResolvedSource` types, its documentation and the factory of its links' transports all
 * live in its own file and are registered in source-kinds.ts. Nothing else in the host names a kind.
 */
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { ResolvedDevice, ResolvedLink } from '../config/resolved.js';
import type { Transport } from '../../hal/transport.js';
import type { ProfilesDocument } from './modbus-point-schema.js';
import type { SourceBuilder } from './source-builder.js';
import type { PushListenContext, PushListener } from './push-source.js';

/** What kind-independent checks need of a device: its name, where it is written, its point names. */
export interface WrittenDevice {
  name: string;
  at: SettingPath;
  /** Its points' names (profile included), when they could be worked out. */
  points?: string[];
  /**
   * The link it is on, when known: its name (in status and logs), what makes it one link (devices
   * with the same `key` share it), and where it goes (`host:port`, a serial path) for the checks.
   */
  link?: { name: string; key: string; endpoint: string };
}

export interface SourceKind<Doc = unknown, Name extends string = string> {
  /** The key under `source:`. */
  readonly name: Name;
  /** One paragraph for docs/config.md and `--help`. */
  readonly summary: string;
  /** JSON Schema of `source.<name>`, closed, with its defaults. */
  readonly schema: Record<string, unknown>;
  /** The devices it declares, for the checks across kinds (device names are unique per pipeline). */
  devices(doc: Doc, at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined): WrittenDevice[];
  /**
   * What the schema cannot say. `profiles` is the pipeline's profiles, or undefined when they are
   * themselves broken (then a device's profile cannot be checked, and is not reported).
   */
  check(doc: Doc, at: SettingPath, checks: SettingChecks, profiles: ProfilesDocument | undefined): void | Promise<void>;
  /** Adds its links and devices; only called on a checked document. */
  resolve(doc: Doc, at: SettingPath, build: SourceBuilder): void;
  /** A polled kind: an unopened transport for one of its links. */
  transport?(link: ResolvedLink, devices: readonly ResolvedDevice[]): Transport;
  /**
   * A push kind (push-source.ts): an unstarted listener for one of its links (`transport: 'push'`),
   * handing what its devices send to `context.ingress`. A kind has `transport` or `listen`, not both.
   */
  listen?(link: ResolvedLink, devices: readonly ResolvedDevice[], context: PushListenContext): PushListener;
}
