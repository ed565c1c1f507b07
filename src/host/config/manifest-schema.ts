/**
 * JSON Schema of a plugin manifest (`plugin.yaml`). The `with:` block is itself a JSON Schema, so only
 * its outline is fixed here: a closed object whose every property carries type, description, default
 * and examples. ajv then compiles it in strict mode, which refuses misspelt keywords.
 */
import { GRANTED_IMPORTS } from '../engine/abi.js';
import { PLUGIN_NAME_PATTERN, VERSION_PATTERN } from './schema-fragments.js';
import type { SchemaDocument } from './schema-document.js';

export const PLUGIN_KINDS = ['decoder', 'transform', 'encoder'] as const;

export const manifestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kind', 'abi', 'version', 'description'],
  properties: {
    name: { type: 'string', pattern: PLUGIN_NAME_PATTERN, description: 'equals the folder name' },
    kind: { enum: PLUGIN_KINDS, description: 'what the plugin consumes and produces' },
    abi: { type: 'number', minimum: 1, description: 'ABI version: the major, or major.minor' },
    version: { type: 'string', pattern: VERSION_PATTERN, description: "the plugin's own version" },
    description: { type: 'string', minLength: 1, description: 'one paragraph for the settings reference' },
    imports: {
      type: 'array',
      uniqueItems: true,
      items: { enum: GRANTED_IMPORTS },
      default: [...GRANTED_IMPORTS],
      description: 'the host functions (namespace wasmgate) the module imports; it is refused if it imports one not listed; default: every one of ABI v1',
    },
    sha256: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description: "sha256 of the module, lower-case hex: written by wasmgate plugin pack into a package's manifest",
    },
    with: {
      type: 'object',
      description: "JSON Schema of the step's settings",
      required: ['type', 'additionalProperties', 'properties'],
      default: { type: 'object', additionalProperties: false, properties: {} },
      properties: {
        type: { const: 'object' },
        additionalProperties: { const: false },
        properties: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['type', 'description', 'default', 'examples'],
            // type and default: any value the property's own schema allows (ajv checks that schema).
            properties: {
              type: {},
              default: {},
              description: { type: 'string', minLength: 1 },
              examples: { type: 'array', minItems: 1 },
            },
          },
        },
      },
    },
  },
} as const;

/** A manifest as the schema accepted it; `abi` is the major (`1`) or major.minor (`1.2`). */
export type ManifestDocument = SchemaDocument<typeof manifestSchema>;
