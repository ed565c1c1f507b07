/**
 * The registry of source kinds: the one place that lists them. The pipeline schema, its checks, the
 * resolver, the docs and pipeline assembly all take kinds from here; adding a kind (BACnet/IP, a push
 * source) is a new file and one line below.
 */
import { bacnetIp } from './bacnet-ip.js';
import { coapServer } from './coap-server.js';
import { modbusRtu } from './modbus-rtu.js';
import { modbusRtuOverTcp } from './modbus-rtu-over-tcp.js';
import { modbusTcp } from './modbus-tcp.js';
import { mqttSubscribe } from './mqtt-subscribe.js';
import type { SourceKind } from './source-kind.js';

export const SOURCE_KINDS = [modbusTcp, modbusRtu, modbusRtuOverTcp, bacnetIp, coapServer, mqttSubscribe] as const;

type AnyKind = (typeof SOURCE_KINDS)[number];

/** Each kind's `name`, so that types can name a kind. */
export type SourceKindName = AnyKind['name'];

/**
 * `source:`'s properties: each kind's schema under its name. The type says the same of each kind, so
 * that the pipeline document's type knows every kind's settings.
 */
export function sourceSchemas(): { readonly [K in AnyKind as K['name']]: K['schema'] } {
  return Object.fromEntries(SOURCE_KINDS.map((kind) => [kind.name, kind.schema])) as { [K in AnyKind as K['name']]: K['schema'] };
}

/** A kind whose document is not known here: what the registry hands out by name. */
export type AnySourceKind = SourceKind<unknown, SourceKindName>;

export function sourceKind(name: string): AnySourceKind | undefined {
  return (SOURCE_KINDS as readonly SourceKind<never, SourceKindName>[]).find((k) => k.name === name) as AnySourceKind | undefined;
}

/**
 * The kinds written under `source:`, in the order written (links, devices and point ids follow file
 * order); keys that name no kind are the schema's to report.
 */
export function writtenKinds(source: Readonly<Record<string, unknown>>): AnySourceKind[] {
  return Object.keys(source).flatMap((name) => sourceKind(name) ?? []);
}
