/**
 * The registry of source kinds: the one place that lists them. The pipeline schema, its checks, the
 * resolver, the docs and pipeline assembly all take kinds from here; adding a kind (BACnet/IP, a push
 * source) is a new file and one line below.
 */
import { modbusRtu } from './modbus-rtu.js';
import { modbusRtuOverTcp } from './modbus-rtu-over-tcp.js';
import { modbusTcp } from './modbus-tcp.js';
import type { SourceKind } from './source-kind.js';

export const SOURCE_KINDS = [modbusTcp, modbusRtu, modbusRtuOverTcp] as const;

/** Each kind's `name`, listed again so that types can name a kind. */
export type SourceKindName = 'modbus_tcp' | 'modbus_rtu' | 'modbus_rtu_over_tcp';

export function sourceKind(name: string): SourceKind | undefined {
  return (SOURCE_KINDS as readonly SourceKind<never>[]).find((k) => k.name === name) as SourceKind | undefined;
}

/**
 * The kinds written under `source:`, in the order written (links, devices and point ids follow file
 * order); keys that name no kind are the schema's to report.
 */
export function writtenKinds(source: Readonly<Record<string, unknown>>): SourceKind[] {
  return Object.keys(source).flatMap((name) => sourceKind(name) ?? []);
}
