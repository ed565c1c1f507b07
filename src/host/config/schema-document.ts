/**
 * The type of a document as a schema describes it: the one way the config area turns a schema into a
 * TypeScript type, so that each `*Document` type is derived from the schema ajv validates with and no
 * hand-written shape can drift from it. A setting the schema drops is gone from the type, and the
 * code that reads it no longer compiles.
 *
 * The type is the document after validation: a setting with a `default` is always present (ajv's
 * `useDefaults` filled it in), one without a default is present only where `required`. Schemas are
 * written as `const` literals for this (json-schema-to-ts reads them at compile time; nothing of it
 * runs).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** A JSON Schema written as a literal whose type `SchemaDocument` can read. */
export type SchemaLiteral = JSONSchema;

/** The document `Schema` accepts, once its defaults are filled in. */
export type SchemaDocument<Schema extends SchemaLiteral> = FromSchema<Schema>;
