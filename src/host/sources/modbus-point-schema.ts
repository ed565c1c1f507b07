/**
 * Schema fragments of Modbus points, shared by every Modbus source kind and by profiles: one point, a
 * register block that stands for many, and the defaults a device or profile gives its points. What one
 * setting cannot say alone (a string needs `length`, a block's range fits its type) is modbus-points.ts.
 */
import { DEFAULTS } from '../config/defaults.js';
import { duration, name } from '../config/schema-fragments.js';
import type { SchemaDocument } from '../config/schema-document.js';

export const POINT_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export const WORD_ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
export const POINT_ACCESS = ['read', 'write', 'read_write'] as const;

/** `100..199`: a block's first and last address, both included. */
export const REGISTER_RANGE_PATTERN = '^\\s*[0-9]+\\s*\\.\\.\\s*[0-9]+\\s*$';

/** The settings a device or profile may give all its points; a point's own setting wins. */
const pointDefaultable = {
  order: { enum: WORD_ORDERS, description: `byte order of the value, A = most significant (default ${DEFAULTS.modbusPoint.order})` },
  unit: { type: 'string', description: 'engineering unit label (default none)' },
  scale: { type: 'number', description: `factor applied to the raw value (default ${DEFAULTS.modbusPoint.scale})` },
  offset: { type: 'number', description: `added after scaling (default ${DEFAULTS.modbusPoint.offset})` },
  access: { enum: POINT_ACCESS, description: `whether the point may be written (default ${DEFAULTS.modbusPoint.access})` },
} as const;

export const pointDefaults = {
  type: 'object',
  additionalProperties: false,
  description: 'defaults for every point of this device or profile',
  properties: pointDefaultable,
} as const;

export const modbusPoint = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'function', 'type'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9._{}-]+$',
      description: 'point name, unique within its device; {point} in topics. In a block, {index} (0, 1, ...) and {address} make each name',
    },
    function: { enum: [1, 2, 3, 4], description: 'Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers' },
    address: { type: 'integer', minimum: 0, maximum: 65535, description: 'first coil or register, 0-based' },
    registers: { type: 'string', pattern: REGISTER_RANGE_PATTERN, description: 'a block: first..last address (both included), one point per value of the type; instead of address' },
    type: { enum: POINT_TYPES, description: 'how the registers are read' },
    length: { type: 'integer', minimum: 1, maximum: 125, description: 'registers holding the text; type string only' },
    bit: { type: 'integer', minimum: 0, maximum: 15, description: 'bit of the register, 0 = least significant; type bool on function 3/4 only' },
    write_function: { enum: [5, 6, 15, 16], description: 'function a write uses: 5 or 15 for coils, 6 or 16 for holding registers (default 5, 6 for one register, 16 for more)' },
    description: { type: 'string', description: 'free text', default: DEFAULTS.modbusPoint.description },
    ...pointDefaultable,
  },
} as const;

/** `profiles:` of a pipeline: device models declared once, named by devices' `profile:`. */
export const profilesSchema = {
  type: 'object',
  description: 'device models: a register map declared once and used by many devices',
  default: {},
  propertyNames: { pattern: '^[A-Za-z0-9._-]+$' },
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['points'],
    properties: {
      description: { type: 'string', description: 'free text' },
      point_defaults: pointDefaults,
      points: { type: 'array', minItems: 1, items: modbusPoint },
    },
  },
} as const;

/** The settings every Modbus device has, whatever link it is on. */
export function modbusDeviceProperties(defaults: { interval: string; timeout: string; retries: number; unitId: number }) {
  const D = DEFAULTS.modbusDevice;
  return {
    name: name('device name, unique within the pipeline; {device} in topics'),
    unit_id: { type: 'integer', minimum: 0, maximum: 255, description: 'Modbus unit identifier (the slave address on a bus)', default: defaults.unitId },
    interval: duration('time between polls', defaults.interval),
    timeout: duration('wait for one answer', defaults.timeout),
    retries: { type: 'integer', minimum: 0, maximum: 10, description: 'extra attempts per request', default: defaults.retries },
    turnaround: duration('quiet time after a transaction with this device before the link sends the next request', D.turnaround),
    quarantine_after: { type: 'integer', minimum: 1, maximum: 1000, description: 'failed poll cycles in a row before the device is only probed now and then', default: D.quarantineAfter },
    profile: name('a profile of this pipeline whose points the device has'),
    point_defaults: pointDefaults,
    points: { type: 'array', minItems: 1, items: modbusPoint },
  } as const;
}

/** A register map's points as written, each with its own settings. */
export type PointDocument = SchemaDocument<typeof modbusPoint>;
/** What a device or profile gives all its points. */
export type PointDefaultsDocument = SchemaDocument<typeof pointDefaults>;
export type ProfilesDocument = SchemaDocument<typeof profilesSchema>;
export type ProfileDocument = ProfilesDocument[string];
/** What every Modbus device document has, whatever its link: the settings above, of which only `name` is required everywhere. */
export type ModbusDeviceDocument = SchemaDocument<{
  type: 'object';
  additionalProperties: false;
  required: ['name'];
  properties: ReturnType<typeof modbusDeviceProperties>;
}>;
