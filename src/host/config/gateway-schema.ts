/**
 * JSON Schema of the gateway file (see docs/config.md). Closed everywhere: an unknown key is an error,
 * never ignored. Static defaults come from DEFAULTS; ajv fills them in during validation.
 */
import { DEFAULTS } from './defaults.js';
import { duration, filePath, name } from './schema-fragments.js';
import { uplinkSchemas } from '../uplinks/uplink-kinds.js';
import { metricsSchema } from '../metrics/metrics-settings.js';
import type { SchemaDocument } from './schema-document.js';
import { pluginsSchema } from '../packages/package-settings.js';
import { fleetSchema } from '../fleet/fleet-settings.js';

export const gatewaySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['gateway', 'uplinks', 'pipelines'],
  properties: {
    gateway: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: name('identity of this gateway; {gateway} in topics'),
        data_dir: filePath(`directory for the durable buffer and state, relative to this file; default $STATE_DIRECTORY when systemd sets it, else ${DEFAULTS.gateway.dataDir}`),
        log: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            level: {
              enum: ['trace', 'debug', 'info', 'warn', 'error'],
              description: 'lowest level written',
              default: DEFAULTS.gateway.logLevel,
            },
            format: { enum: ['json', 'pretty'], description: 'one JSON object per line, or human-readable', default: DEFAULTS.gateway.logFormat },
          },
        },
        outbox_commit_delay: duration(
          'how long a message the uplink has not delivered waits before it is written to the outbox on disk; one delivered sooner is never written. A crash loses at most this much of what was undelivered. 0s: written every turn, at most 1s',
          DEFAULTS.gateway.outboxCommitDelay,
        ),
        plugin_dirs: {
          type: 'array',
          minItems: 1,
          items: filePath('directory holding one folder per plugin'),
          description: 'where plugins named in steps are looked up, in order, after the plugin registry in data_dir',
        },
      },
    },
    uplinks: {
      type: 'object',
      minProperties: 1,
      propertyNames: { type: 'string', pattern: name('').pattern },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: uplinkSchemas(),
      },
    },
    pipelines: {
      type: 'array',
      minItems: 1,
      items: filePath('pipeline file, relative to this file'),
    },
    metrics: metricsSchema,
    plugins: pluginsSchema,
    fleet: fleetSchema,
    control: {
      type: 'object',
      additionalProperties: false,
      description: 'the local control socket that wasmgate status (and later swap, reload, write) talks to',
      default: {},
      properties: {
        socket: {
          type: ['string', 'boolean'],
          minLength: 1,
          description: 'path of the Unix socket, relative to this file; false turns the socket off; default $RUNTIME_DIRECTORY/control.sock, else <data_dir>/control.sock',
        },
      },
    },
  },
} as const;

/** A gateway file as the schema accepted it, its static defaults filled in (`log`, `control`, `metrics` always there). */
export type GatewayDocument = SchemaDocument<typeof gatewaySchema>;
