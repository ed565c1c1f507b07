/**
 * Collects what the source kinds resolve into one `ResolvedSource`: links and devices numbered in file
 * order, every device's points numbered across the pipeline (a point's id is its index in `points`,
 * the ABI's point id).
 */
import type { ResolvedDevice, ResolvedLink, ResolvedPoint, ResolvedSource } from '../config/resolved.js';
import type { SourceKindName } from './source-kinds.js';
import { expandDevice, resolveDevicePoints } from './modbus-points.js';
import type { ModbusDeviceDocument, ProfilesDocument } from './modbus-point-schema.js';
import type { SettingPath } from '../config/setting-path.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A link as a kind describes it; the builder numbers it and lists its devices. */
export type LinkDraft = ResolvedLink extends infer L ? (L extends ResolvedLink ? Omit<L, 'index' | 'devices'> : never) : never;
export type DeviceDraft = Omit<ResolvedDevice, 'index' | 'link' | 'points' | 'at'>;

export class SourceBuilder {
  readonly #kinds: SourceKindName[] = [];
  readonly #links: Mutable<ResolvedLink>[] = [];
  readonly #devices: ResolvedDevice[] = [];
  readonly points: ResolvedPoint[] = [];
  readonly #profiles: ProfilesDocument;
  /** The pipeline file's directory: a relative path a kind's settings name (a password file) is taken from it. */
  readonly base: string;

  constructor(profiles: ProfilesDocument, base = '.') {
    this.#profiles = profiles;
    this.base = base;
  }

  kind(name: SourceKindName): void {
    this.#kinds.push(name);
  }

  /** Adds a link; returns its index. */
  link(draft: LinkDraft): number {
    const index = this.#links.length;
    this.#links.push({ ...draft, index, devices: [] } as unknown as Mutable<ResolvedLink>);
    return index;
  }

  /** Adds a Modbus device on link `link`, with its points (its profile's, then its own). */
  modbusDevice(draft: DeviceDraft, link: number, doc: ModbusDeviceDocument, at: SettingPath): ResolvedDevice {
    const index = this.#devices.length;
    const points = resolveDevicePoints(expandDevice(doc, at, this.#profiles), index, this.points.length);
    this.points.push(...points);
    const device: ResolvedDevice = { ...draft, index, at, link, points };
    this.#devices.push(device);
    (this.#links[link]!.devices as number[]).push(index);
    return device;
  }

  /**
   * Adds a device on link `link` whose points its kind resolves itself (BACnet): `points` gets the
   * device's index and the id of its first point, and returns the device's points in id order.
   */
  deviceWithPoints(draft: DeviceDraft, link: number, at: SettingPath, points: (device: number, firstId: number) => ResolvedPoint[]): ResolvedDevice {
    const index = this.#devices.length;
    const own = points(index, this.points.length);
    this.points.push(...own);
    const device: ResolvedDevice = { ...draft, index, at, link, points: own };
    this.#devices.push(device);
    (this.#links[link]!.devices as number[]).push(index);
    return device;
  }

  /** The link added as `link`, for a kind that completes it once its devices are numbered. */
  linkAt(link: number): ResolvedLink {
    return this.#links[link]!;
  }

  build(): ResolvedSource {
    return { kinds: this.#kinds, links: this.#links, devices: this.#devices };
  }
}
