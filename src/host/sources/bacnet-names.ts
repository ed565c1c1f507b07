/**
 * The BACnet names a pipeline file may use for a point's object type and property, and the numbers
 * they stand for (ASHRAE 135, clause 21: BACnetObjectType, BACnetPropertyIdentifier). The settings
 * document carries the numbers; any other type or property is written as its number.
 */

/** Object types whose points the `bacnet` decoder reads (clause 12), by their standard names. */
export const BACNET_OBJECT_TYPES = {
  'analog-input': 0,
  'analog-output': 1,
  'analog-value': 2,
  'binary-input': 3,
  'binary-output': 4,
  'binary-value': 5,
  device: 8,
  'multi-state-input': 13,
  'multi-state-output': 14,
  'multi-state-value': 19,
} as const;

/** Properties by their standard names: the ones a point of a field object reads. */
export const BACNET_PROPERTIES = {
  'present-value': 85,
  units: 117,
  'status-flags': 111,
  'out-of-service': 81,
  reliability: 103,
  'object-name': 77,
  description: 28,
} as const;

export type BacnetObjectTypeName = keyof typeof BACNET_OBJECT_TYPES;
export type BacnetPropertyName = keyof typeof BACNET_PROPERTIES;

/** The number of a type written by name or number. */
export function objectTypeNumber(written: string | number): number {
  return typeof written === 'number' ? written : BACNET_OBJECT_TYPES[written as BacnetObjectTypeName];
}

export function propertyNumber(written: string | number): number {
  return typeof written === 'number' ? written : BACNET_PROPERTIES[written as BacnetPropertyName];
}
