/**
 * Names for what a BACnet scan found (ASHRAE 135, clause 21), shared by its report and its pipeline
 * file: object types, segmentation, engineering units as the gateway maps them, MAC addresses.
 */
import { BACNET_OBJECT_TYPES } from '../sources/bacnet-names.js';
import { BACNET_UNITS } from '../sources/bacnet-units.js';

// Names of object types beyond the ones a pipeline point may name (135 clause 21, BACnetObjectType).
const MORE_OBJECT_TYPES: Record<number, string> = {
  6: 'calendar', 7: 'command', 9: 'event-enrollment', 10: 'file', 11: 'group', 12: 'loop', 15: 'notification-class',
  16: 'program', 17: 'schedule', 20: 'trend-log', 23: 'accumulator', 24: 'pulse-converter', 45: 'integer-value',
  46: 'large-analog-value', 48: 'positive-integer-value',
};
const TYPE_NAMES = new Map<number, string>([...Object.entries(BACNET_OBJECT_TYPES).map(([n, t]) => [t, n] as [number, string]), ...Object.entries(MORE_OBJECT_TYPES).map(([t, n]) => [Number(t), n] as [number, string])]);
export const SEGMENTATION = ['segmented-both', 'segmented-transmit', 'segmented-receive', 'no-segmentation'];

export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `object-type-${type}`;
}

/** A units number as the unit the gateway maps it to (si's spelling) and the BACnet name; undefined parts when unknown. */
export function unitsOf(units: number): { number: number; bacnet?: string; si?: string } {
  const entry = Object.entries(BACNET_UNITS).find(([, [n]]) => n === units);
  return entry ? { number: units, bacnet: entry[0], si: entry[1][1] } : { number: units };
}

/** A MAC as hex octets: 0c, or c0a8011ebac0 for a B/IP address. */
export function macText(mac: readonly number[]): string {
  return mac.map((b) => b.toString(16).padStart(2, '0')).join('');
}
