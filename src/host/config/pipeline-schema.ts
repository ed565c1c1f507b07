/**
 * JSON Schema of a pipeline file (see docs/config.md). Closed everywhere. What one setting cannot say
 * alone (a string point needs `length`, names must be unique, `publish.uplink` must exist) is checked
 * after the schema by pipeline-checks.ts.
 */
import { DEFAULTS } from './defaults.js';
import { backoff, duration, name, PLUGIN_NAME_PATTERN, size, filePath } from './schema-fragments.js';

export const POINT_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export const WORD_ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;

const D = DEFAULTS.modbusDevice;
const P = DEFAULTS.modbusPoint;

const modbusPoint = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'function', 'address', 'type'],
  properties: {
    name: name('point name, unique within the pipeline; {point} in topics'),
    function: { enum: [1, 2, 3, 4], description: 'Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers' },
    address: { type: 'integer', minimum: 0, maximum: 65535, description: 'first coil or register, 0-based' },
    type: { enum: POINT_TYPES, description: 'how the registers are read' },
    order: { enum: WORD_ORDERS, description: 'byte order of the value, A = most significant', default: P.order },
    length: { type: 'integer', minimum: 1, maximum: 125, description: 'registers holding the text; type string only' },
    bit: { type: 'integer', minimum: 0, maximum: 15, description: 'bit of the register, 0 = least significant; type bool on function 3/4 only' },
    unit: { type: 'string', description: 'engineering unit label', default: P.unit },
    scale: { type: 'number', description: 'factor applied to the raw value', default: P.scale },
    offset: { type: 'number', description: 'added after scaling', default: P.offset },
    description: { type: 'string', description: 'free text', default: P.description },
  },
} as const;

const modbusDevice = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'points'],
  properties: {
    name: name('device name, unique within the pipeline; {device} in topics'),
    host: { type: 'string', minLength: 1, description: 'host name or IP address' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port', default: D.port },
    unit_id: { type: 'integer', minimum: 0, maximum: 255, description: 'Modbus unit identifier', default: D.unitId },
    interval: duration('time between polls', D.interval),
    timeout: duration('wait for one answer', D.timeout),
    retries: { type: 'integer', minimum: 0, maximum: 10, description: 'extra attempts per request', default: D.retries },
    backoff: backoff('reconnect back-off', D.backoffMin, D.backoffMax),
    points: { type: 'array', minItems: 1, items: modbusPoint },
  },
} as const;

const step = {
  type: 'object',
  additionalProperties: false,
  properties: {
    plugin: { type: 'string', pattern: PLUGIN_NAME_PATTERN, description: 'plugin found by name in gateway.plugin_dirs' },
    path: filePath('a .wasm file, relative to this file, with its <name>.plugin.yaml next to it'),
    with: { type: 'object', description: "the plugin's settings", default: DEFAULTS.step.with },
  },
} as const;

export const pipelineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pipeline', 'source', 'steps', 'publish'],
  properties: {
    pipeline: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: name('pipeline name, unique across the gateway; {pipeline} in topics'),
        batch: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_records: {
              type: 'integer',
              minimum: 1,
              maximum: 65535,
              description: 'most records handed to the plugin chain at once',
              default: DEFAULTS.pipeline.batchMaxRecords,
            },
            deadline: duration('watchdog: longest the chain may take on one batch', DEFAULTS.pipeline.batchDeadline),
          },
        },
        ring: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            ingress: size('ring from I/O to the pipeline worker; power of two', DEFAULTS.pipeline.ringIngress),
            egress: size('ring from the pipeline worker to the uplink; power of two', DEFAULTS.pipeline.ringEgress),
          },
        },
        plugin_memory: size('most linear memory one plugin instance may grow to; whole 64KiB pages', DEFAULTS.pipeline.pluginMemory),
      },
    },
    source: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        modbus_tcp: {
          type: 'object',
          additionalProperties: false,
          required: ['devices'],
          properties: { devices: { type: 'array', minItems: 1, items: modbusDevice } },
        },
      },
    },
    steps: { type: 'array', minItems: 1, items: step },
    publish: {
      type: 'object',
      additionalProperties: false,
      required: ['uplink'],
      properties: {
        uplink: name('uplink of the gateway file to publish to'),
        topic: { type: 'string', minLength: 1, description: 'topic template', default: DEFAULTS.publish.topic },
        qos: { enum: [0, 1], description: "QoS; default the uplink's" },
        retain: { type: 'boolean', description: 'MQTT retain flag', default: DEFAULTS.publish.retain },
      },
    },
  },
} as const;
