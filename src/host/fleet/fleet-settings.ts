/**
 * The gateway file's `fleet:` block (docs/config.md, `fleet`; docs/fleet.md): the gateway listens for
 * rollout commands on its command topic (and its groups'), over a client of its own to the broker of
 * one of its MQTT uplinks, and says what it did on its retained status topic. Without the block the
 * gateway has no fleet client at all.
 */
import type { SchemaDocument } from '../config/schema-document.js';
import type { SettingChecks } from '../config/setting-checks.js';
import { duration, name, size } from '../config/schema-fragments.js';
import { known } from '../config/resolve-pipeline.js';
import { parseDuration, parseSize } from '../config/units.js';
import { fleetTopics } from './fleet-topics.js';

export const DEFAULT_TOPIC_PREFIX = 'wasmgate/fleet';

export const fleetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['uplink'],
  description: 'rollout commands from the fleet over MQTT, and this gateway\'s retained status of them (docs/fleet.md)',
  properties: {
    uplink: name('the MQTT uplink whose broker, credentials and TLS the fleet client uses (a connection of its own)'),
    topic_prefix: {
      type: 'string',
      minLength: 1,
      default: DEFAULT_TOPIC_PREFIX,
      description: 'first levels of the fleet topics: <prefix>/gateway/<id>/command, <prefix>/gateway/<id>/status, <prefix>/group/<group>/command',
    },
    groups: {
      type: 'array',
      uniqueItems: true,
      default: [],
      items: name('a group (cohort) of gateways; commands to <prefix>/group/<group>/command reach this gateway too'),
      description: 'the groups this gateway belongs to',
    },
    max_package: size('largest package a command may carry or name by URL', '1MiB'),
    fetch_timeout: duration('deadline of fetching a package by URL, from the request to its last byte', '30s'),
    queue: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 8,
      description: 'commands waiting to be worked on at most; more arriving are dropped and counted (a flood)',
    },
  },
} as const;

export type FleetDocument = SchemaDocument<typeof fleetSchema>;

export interface ResolvedFleet {
  /** The MQTT uplink whose broker settings the fleet client uses. */
  readonly uplink: string;
  /** `<client id of the uplink>-fleet`: a connection of its own. */
  readonly clientId: string;
  /** The gateway's own command topic first, then its groups'. */
  readonly commandTopics: readonly string[];
  /** Retained, QoS 1. */
  readonly statusTopic: string;
  readonly maxPackageBytes: number;
  readonly fetchTimeoutMs: number;
  readonly queueLimit: number;
}

/** What is wrong with a topic prefix, phrased to follow the setting name; undefined when usable. */
export function topicPrefixFault(prefix: string): string | undefined {
  if (/[#+]/.test(prefix)) return 'is the start of topics to subscribe and publish to: no wildcards # or +';
  if (prefix.includes('\u0000')) return 'must not contain a NUL character';
  if (prefix.startsWith('/') || prefix.endsWith('/')) return 'must not begin or end with "/" (the levels are added with their own "/")';
  return undefined;
}

/** `uplinks`: the gateway file's uplinks as written, name -> kind name. */
export function checkFleet(doc: FleetDocument, uplinks: ReadonlyMap<string, string>, checks: SettingChecks): void {
  const at = ['fleet'];
  if (checks.clean([...at, 'uplink'])) {
    const kind = uplinks.get(doc.uplink);
    const mqtt = [...uplinks].filter(([, k]) => k === 'mqtt').map(([n]) => n);
    const have = mqtt.length > 0 ? `its MQTT uplinks: ${mqtt.join(', ')}` : 'the file has no MQTT uplink';
    if (kind === undefined) checks.invalid([...at, 'uplink'], `names no uplink of this file (${have})`);
    else if (kind !== 'mqtt') checks.invalid([...at, 'uplink'], `names uplink ${doc.uplink}, a ${kind} uplink: fleet commands come over MQTT (${have})`);
  }
  if (checks.clean([...at, 'topic_prefix'])) {
    const fault = topicPrefixFault(doc.topic_prefix);
    if (fault !== undefined) checks.invalid([...at, 'topic_prefix'], fault);
  }
  checks.size([...at, 'max_package'], doc.max_package);
  checks.duration([...at, 'fetch_timeout'], doc.fetch_timeout, true, true);
}

/** Only called on a checked document. */
export function resolveFleet(doc: FleetDocument | undefined, gatewayId: string, uplinkClientId: (uplink: string) => string): ResolvedFleet | null {
  if (doc === undefined) return null;
  const topics = fleetTopics(doc.topic_prefix);
  return {
    uplink: doc.uplink,
    clientId: `${uplinkClientId(doc.uplink)}-fleet`,
    commandTopics: [topics.command(gatewayId), ...doc.groups.map((g) => topics.groupCommand(g))],
    statusTopic: topics.status(gatewayId),
    maxPackageBytes: known(parseSize(doc.max_package)),
    fetchTimeoutMs: known(parseDuration(doc.fetch_timeout)),
    queueLimit: doc.queue,
  };
}
