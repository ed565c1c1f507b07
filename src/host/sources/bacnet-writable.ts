/**
 * Which BACnet points may be written, and with what (ASHRAE 135, clause 12 and 19.2): the
 * present-value of an analog, binary or multi-state output or value object, by WriteProperty, whose
 * datatype the object type fixes (REAL, BACnetBinaryPV, Unsigned state number). An input object's
 * present-value is the device's measurement: the standard lets it be written only while the object is
 * out of service, which is commissioning, not a gateway's job, so a pipeline that declares one
 * writable is refused at load. Checked here once for the config, and used by the rules' write checks.
 */
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { BACNET_PROPERTIES, objectTypeNumber, propertyNumber } from './bacnet-names.js';

/** How a present-value is written: a REAL, an inactive/active enumeration, or a state number from 1. */
export type BacnetWriteKind = 'real' | 'binary' | 'multi-state';

const WRITE_KINDS: Record<number, BacnetWriteKind> = { 1: 'real', 2: 'real', 4: 'binary', 5: 'binary', 14: 'multi-state', 19: 'multi-state' };
const INPUTS: Record<number, string> = { 0: 'analog-input', 3: 'binary-input', 13: 'multi-state-input' };
/** 19.2.1.1: priority 6 is reserved for the minimum on/off algorithm of binary objects. */
const MINIMUM_ON_OFF_PRIORITY = 6;

/** The write kind of a present-value point of `objectType`, or undefined for an object type that is not written. */
export function bacnetWriteKind(objectType: number, property: number): BacnetWriteKind | undefined {
  return property === BACNET_PROPERTIES['present-value'] ? WRITE_KINDS[objectType] : undefined;
}

/** Why `value` cannot be written to a point of `kind` (undefined when it can); NaN is a relinquish, always writable. */
export function bacnetValueProblem(kind: BacnetWriteKind, value: number): string | undefined {
  if (Number.isNaN(value)) return undefined;
  if (kind === 'binary') return value === 0 || value === 1 ? undefined : 'a binary present-value is inactive (0, false) or active (1, true)';
  if (kind === 'multi-state') return Number.isInteger(value) && value >= 1 && value <= 0xffffffff ? undefined : 'a multi-state present-value is a state number: a whole number from 1';
  // A REAL is a float32: Math.fround gives the float32 written, Infinity when the value overflows it.
  return Number.isFinite(Math.fround(value)) ? undefined : 'an analog present-value is a REAL (float32): finite, at most about 3.4e38 in size';
}

interface WritablePoint {
  object_type: string | number;
  property: string | number;
  access: string;
  write_priority?: number | undefined;
}

export function checkBacnetWritable(p: WritablePoint, at: SettingPath, checks: SettingChecks): void {
  const priorityAt: SettingPath = [...at, 'write_priority'];
  if (p.access === 'read') {
    if (p.write_priority !== undefined) checks.invalid(priorityAt, 'the point is read-only (access: read): a write priority needs access: write or read_write');
    return;
  }
  const type = objectTypeNumber(p.object_type);
  const property = propertyNumber(p.property);
  // An unknown name is reported by the caller already.
  if (type === undefined || property === undefined) return;
  const input = INPUTS[type];
  if (input !== undefined) {
    checks.invalid([...at, 'access'], `${input} is an input object: its present-value is what the device measures, writable only while out of service; write an output or value object instead`);
  } else if (WRITE_KINDS[type] === undefined) {
    checks.invalid([...at, 'access'], `object type ${String(p.object_type)} is not written here: only the present-value of analog, binary and multi-state output and value objects`);
  } else if (property !== BACNET_PROPERTIES['present-value']) {
    checks.invalid([...at, 'access'], `property ${String(p.property)} is not written here: only present-value (WriteProperty with priority)`);
  }
  if (p.write_priority === MINIMUM_ON_OFF_PRIORITY) {
    checks.invalid(priorityAt, 'priority 6 is reserved for the minimum on/off algorithm (ASHRAE 135, 19.2.1.1): choose another, 8 (manual operator) or 9 to 16 for automation');
  }
}
