/**
 * The config area's own schemas (gateway, pipeline, manifest) and the built-in plugins' settings
 * schemas compiled at build time into plain functions (ajv's standalone code, written by
 * build-validators.ts into dist/), so that a start does not pay for compiling them: tens of
 * milliseconds each on this machine, against a start budget of 200 ms from spawn to first publish. Each is filed under the fingerprint of the schema it was
 * compiled from, so a validator can only be found for the very schema it checks: after a schema
 * changes and before the next build, the lookup finds nothing and the schema is compiled at run time,
 * as before.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AnySchema, ValidateFunction } from 'ajv';

/** The generated module, beside this one in dist/: CommonJS, one export per fingerprint. */
export const STANDALONE_VALIDATORS_FILE = 'standalone-validators.generated.cjs';

/** The name a schema's validator is filed under: its JSON text, hashed. */
export function schemaFingerprint(schema: AnySchema): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(schema)).digest('hex')}`;
}

let generated: Readonly<Record<string, ValidateFunction>> | null | undefined;

/** The build's validator of `schema`, or undefined when the build made none for it. */
export function standaloneValidator(schema: AnySchema): ValidateFunction | undefined {
  if (generated === undefined) {
    try {
      generated = createRequire(import.meta.url)(`./${STANDALONE_VALIDATORS_FILE}`) as Record<string, ValidateFunction>;
    } catch (err) {
      // Not built (running from a tree where only tsc ran): every schema is compiled at run time.
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      generated = null;
    }
  }
  return generated?.[schemaFingerprint(schema)];
}
