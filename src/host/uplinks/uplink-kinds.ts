/**
 * The registry of uplink kinds: the one place that lists them. The gateway schema, the checks, the
 * resolution and the gateway's sinks all go through it.
 */
import { mqttUplink } from './mqtt-uplink.js';
import { coapUplink } from './coap-uplink.js';
import type { UplinkKind } from './uplink-kind.js';

const KINDS = [mqttUplink, coapUplink] as const;

type AnyKind = (typeof KINDS)[number];

/** Each kind's `name`, so that types can name a kind. */
export type UplinkKindName = AnyKind['name'];

// Each kind reads its own document; the registry hands it the document written under its name.
export const UPLINK_KINDS: readonly UplinkKind[] = KINDS as readonly UplinkKind<never>[] as readonly UplinkKind[];

export function uplinkKind(name: string): UplinkKind | undefined {
  return UPLINK_KINDS.find((k) => k.name === name);
}

/** `uplinks.<name>`'s properties: one per kind (the schema lets exactly one be written). */
export function uplinkSchemas(): { readonly [K in AnyKind as K['name']]: K['schema'] } {
  return Object.fromEntries(KINDS.map((k) => [k.name, k.schema])) as { [K in AnyKind as K['name']]: K['schema'] };
}

/** The kind written under one uplink and its settings; undefined when no known kind is. */
export function uplinkOf(uplink: unknown): { kind: UplinkKind; doc: unknown } | undefined {
  // What the schema refused (null, a list) is reported already and has no kind to look at.
  if (uplink === null || typeof uplink !== 'object' || Array.isArray(uplink)) return undefined;
  for (const kind of UPLINK_KINDS) if ((uplink as Record<string, unknown>)[kind.name] !== undefined) return { kind, doc: (uplink as Record<string, unknown>)[kind.name] };
  return undefined;
}
