/**
 * Which configured device and point an MQTT topic names, by the `mqtt_subscribe` source's patterns
 * in the order written: the first pattern the topic fits decides. A topic that fits none (a filter
 * kept from an earlier configuration in a persistent session, an overlapping subscription of another
 * client id), or that names a device or point the source does not have, names nothing.
 */
import type { ResolvedDevice } from '../config/resolved.js';
import { matchTopic, parseTopicPattern, type TopicPattern } from './mqtt-topic-pattern.js';
import type { ResolvedTopicPattern } from './mqtt-subscribe.js';

/** A device index, and the point id when the topic names one (none: the payload names the points). */
export interface TopicRoute {
  readonly device: number;
  readonly point?: number;
}

/** `pattern`: the index of the pattern that decided (the first the topic fits), for a copy's subscription identifier. */
export type Routed = { ok: true; route: TopicRoute; pattern: number } | { ok: false; detail: string };

interface Named {
  readonly index: number;
  readonly name: string;
  readonly points: ReadonlyMap<string, number>;
}

interface Entry {
  readonly pattern: TopicPattern;
  readonly resolved: ResolvedTopicPattern;
}

/** A topic is shown this long at most in a refusal's detail. */
const SHOWN = 120;

export class TopicRoutes {
  readonly #entries: Entry[];
  /** Device name -> index, and per device point name -> id. */
  readonly #devices = new Map<string, Named>();
  readonly #devicesByIndex = new Map<number, Named>();

  constructor(topics: readonly ResolvedTopicPattern[], devices: readonly ResolvedDevice[]) {
    this.#entries = topics.map((resolved) => {
      const parsed = parseTopicPattern(resolved.pattern);
      if (!parsed.ok) throw new TypeError(`topic pattern ${resolved.pattern} passed the checks but does not parse: ${parsed.reason}`);
      return { pattern: parsed.pattern, resolved };
    });
    for (const d of devices) {
      const entry = { index: d.index, name: d.name, points: new Map(d.points.map((p) => [p.name, p.id])) };
      this.#devices.set(d.name, entry);
      this.#devicesByIndex.set(d.index, entry);
    }
  }

  /** Whether the topic fits the pattern at this index (false for an index this source has not). */
  fits(index: number, topic: string): boolean {
    const entry = this.#entries[index];
    return entry !== undefined && matchTopic(entry.pattern, topic) !== undefined;
  }

  route(topic: string): Routed {
    for (const [at, { pattern, resolved }] of this.#entries.entries()) {
      const names = matchTopic(pattern, topic);
      if (!names) continue;
      const device = resolved.device !== null ? this.#devicesByIndex.get(resolved.device) : names.device !== undefined ? this.#devices.get(names.device) : undefined;
      if (!device) return { ok: false, detail: `${resolved.pattern} names device ${JSON.stringify(shown(names.device ?? ''))}, which this source does not have` };
      const index = device.index;
      if (resolved.point !== null) return { ok: true, route: { device: index, point: resolved.point }, pattern: at };
      if (names.point === undefined) return { ok: true, route: { device: index }, pattern: at };
      const point = device.points.get(names.point);
      if (point === undefined) return { ok: false, detail: `${resolved.pattern} names point ${JSON.stringify(shown(names.point))} of device ${device.name}, which it does not have` };
      return { ok: true, route: { device: index, point }, pattern: at };
    }
    return { ok: false, detail: `no topic pattern of this source fits it (${this.#entries.map((e) => e.resolved.pattern).join(', ')})` };
  }
}

function shown(name: string): string {
  return name.length > SHOWN ? `${name.slice(0, SHOWN)}…` : name;
}
