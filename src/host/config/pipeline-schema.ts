/**
 * JSON Schema of a pipeline file (see docs/config.md). Closed everywhere. Each source kind brings its
 * own fragment (src/host/sources). What one setting cannot say alone (a string point needs `length`,
 * names must be unique, `publish.uplink` must exist) is checked after the schema by pipeline-checks.ts.
 */
import { DEFAULTS } from './defaults.js';
import { duration, name, PLUGIN_NAME_PATTERN, size, filePath } from './schema-fragments.js';
import { profilesSchema } from '../sources/modbus-point-schema.js';
import { sourceSchemas } from '../sources/source-kinds.js';
import type { SchemaDocument } from './schema-document.js';
import { rulesListSchema } from '../rules/rule-schema.js';

export { POINT_TYPES, WORD_ORDERS } from '../sources/modbus-point-schema.js';

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
        swap: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'swapping a step\'s plugin in the running pipeline at a reload (docs/plugin-abi.md, Swapping)',
          properties: {
            canary_deadline: duration('longest the canary run of a new version on recent batches may take', DEFAULTS.pipeline.swapCanaryDeadline),
            rollback_traps: {
              type: 'integer',
              minimum: 0,
              maximum: 1000,
              description: 'a swapped step that traps more often than this within rollback_window is rolled back to the version before',
              default: DEFAULTS.pipeline.swapRollbackTraps,
            },
            rollback_window: duration('the window rollback_traps counts traps in', DEFAULTS.pipeline.swapRollbackWindow),
          },
        },
      },
    },
    profiles: profilesSchema,
    source: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'where readings come from: one or more source kinds, each with its devices',
      properties: sourceSchemas(),
    },
    steps: { type: 'array', minItems: 1, items: step },
    rules: rulesListSchema,
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

/** A pipeline file as the schema accepted it, its static defaults filled in. */
export type PipelineDocument = SchemaDocument<typeof pipelineSchema>;
export type StepDocument = PipelineDocument['steps'][number];
