/**
 * Building blocks shared by the gateway and pipeline schemas, and the plain-words meaning of each
 * pattern they use, so that a failed pattern reads "must be a duration such as 250ms" and not a regex.
 */
import { DURATION_PATTERN, SIZE_PATTERN } from './units.js';
import type { SchemaDocument } from './schema-document.js';

/** Names of gateways, uplinks, pipelines, devices and points: they end up in topics, logs and metrics. */
export const NAME_PATTERN = '^[A-Za-z0-9._-]+$';

/** Plugin names are directory names: lower case so that they mean the same on every file system. */
export const PLUGIN_NAME_PATTERN = '^[a-z][a-z0-9_-]*$';

/** A plugin's own version: `1.0.0`, `0.2.1-rc.1`. */
export const VERSION_PATTERN = '^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$';

export const PATTERN_MEANINGS: ReadonlyMap<string, string> = new Map([
  [NAME_PATTERN, 'a name made of letters, digits, ".", "_" and "-"'],
  [PLUGIN_NAME_PATTERN, 'a plugin name: a lower-case letter, then lower-case letters, digits, "_" and "-"'],
  [DURATION_PATTERN, 'a duration such as 250ms, 1.5s, 2m, 1h, or a number of milliseconds'],
  [VERSION_PATTERN, 'a version such as 1.0.0 or 0.2.1-rc.1'],
  [SIZE_PATTERN, 'a size such as 256KiB or 1MiB (units B, KiB, MiB, GiB), or a number of bytes'],
]);

/** A string that must match a pattern (the pattern itself is not part of the type). */
interface PatternSchema {
  readonly type: 'string';
  readonly pattern: string;
  readonly description: string;
}

/** A duration or size: text with a unit, or a plain number (milliseconds, bytes). */
interface QuantitySchema {
  readonly type: readonly ['string', 'integer'];
  readonly pattern: string;
  readonly minimum: 0 | 1;
  readonly description: string;
}

/** The same, with a default: always present once validated. */
type Defaulted<S> = S & { readonly default: string };

export function name(description: string): PatternSchema {
  return { type: 'string', pattern: NAME_PATTERN, description };
}

export function duration(description: string): QuantitySchema;
export function duration(description: string, defaultValue: string): Defaulted<QuantitySchema>;
export function duration(description: string, defaultValue?: string): QuantitySchema {
  return {
    type: ['string', 'integer'],
    pattern: DURATION_PATTERN,
    minimum: 0,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  };
}

export function size(description: string): QuantitySchema;
export function size(description: string, defaultValue: string): Defaulted<QuantitySchema>;
export function size(description: string, defaultValue?: string): QuantitySchema {
  return {
    type: ['string', 'integer'],
    pattern: SIZE_PATTERN,
    minimum: 1,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  };
}

/** `{ min, max }` back-off bounds. */
export function backoff(description: string, min: string, max: string) {
  return {
    type: 'object',
    additionalProperties: false,
    description,
    default: {},
    properties: {
      min: duration('first delay after a failure', min),
      max: duration('ceiling the delay doubles up to', max),
    },
  } as const;
}

/** A relative or absolute file path (relative paths are taken from the file that names them). */
export function filePath(description: string): { readonly type: 'string'; readonly minLength: 1; readonly description: string } {
  return { type: 'string', minLength: 1, description };
}

/** Back-off bounds as written, both filled in by their defaults. */
export type BackoffDocument = SchemaDocument<ReturnType<typeof backoff>>;
