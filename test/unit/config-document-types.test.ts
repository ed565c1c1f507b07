/**
 * The `*Document` types are derived from the schemas (src/host/config/schema-document.ts) on one
 * premise: a setting whose schema has a `default` is always present once ajv has validated the file,
 * so the type says it is there. The first test checks that premise against ajv itself, for every
 * defaulted setting of the gateway and pipeline schemas, on the smallest files that reach each block.
 * What the types say of the schemas is checked by tsc, at the end of this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewaySchema, type GatewayDocument } from '../../src/host/config/gateway-schema.js';
import { pipelineSchema, type PipelineDocument } from '../../src/host/config/pipeline-schema.js';
import { constantSchemaValidator } from '../../src/host/config/schema-errors.js';

type Schema = { default?: unknown; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

/** Paths of the settings whose schema gives a default and which the data, where it has their parent, lacks. */
function missingDefaults(schema: Schema, data: unknown, path: string): string[] {
  if (Array.isArray(data)) return schema.items ? data.flatMap((item, i) => missingDefaults(schema.items!, item, `${path}[${i}]`)) : [];
  if (data === null || typeof data !== 'object') return [];
  const map = data as Record<string, unknown>;
  const missing: string[] = [];
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (!(key in map)) {
      if (sub.default !== undefined) missing.push(`${path}.${key}`);
      continue;
    }
    missing.push(...missingDefaults(sub, map[key], `${path}.${key}`));
  }
  const values = schema.additionalProperties;
  if (typeof values === 'object') {
    for (const [key, value] of Object.entries(map)) if (!(key in (schema.properties ?? {}))) missing.push(...missingDefaults(values, value, `${path}.${key}`));
  }
  return missing;
}

/** Counts the defaulted settings the walk looks at, so that the test cannot pass by looking at none. */
function defaultedSettings(schema: Schema, data: unknown): number {
  if (Array.isArray(data)) return schema.items ? data.reduce((n: number, item) => n + defaultedSettings(schema.items!, item), 0) : 0;
  if (data === null || typeof data !== 'object') return 0;
  const map = data as Record<string, unknown>;
  let n = 0;
  for (const [key, sub] of Object.entries(schema.properties ?? {})) if (key in map) n += (sub.default !== undefined ? 1 : 0) + defaultedSettings(sub, map[key]);
  const values = schema.additionalProperties;
  if (typeof values === 'object') for (const [key, value] of Object.entries(map)) if (!(key in (schema.properties ?? {}))) n += defaultedSettings(values, value);
  return n;
}

const point = { name: 'p', function: 3, address: 0, type: 'uint16' };

test('after validation every setting with a default is present, as the derived document types say', () => {
  const gateway = {
    gateway: { id: 'g' },
    uplinks: { broker: { mqtt: { url: 'mqtt://localhost' } }, server: { coap: { url: 'coap://localhost' } } },
    pipelines: ['p.yaml'],
  };
  const pipeline = {
    pipeline: { name: 'p' },
    profiles: { meter: { points: [point] } },
    source: {
      modbus_tcp: { devices: [{ name: 'plc', host: 'localhost', points: [point] }] },
      modbus_rtu: { buses: [{ name: 'line', port: '/dev/ttyUSB0', rs485: {}, devices: [{ name: 'm1', unit_id: 1, profile: 'meter' }] }] },
      modbus_rtu_over_tcp: { buses: [{ name: 'nport', host: 'localhost', port: 4001, devices: [{ name: 'm2', unit_id: 2, points: [point] }] }] },
    },
    steps: [{ plugin: 'json' }],
    publish: { uplink: 'broker' },
  };
  for (const [schema, doc] of [[gatewaySchema, gateway], [pipelineSchema, pipeline]] as const) {
    const validate = constantSchemaValidator(schema);
    assert.equal(validate(doc), true, JSON.stringify(validate.errors));
    assert.deepEqual(missingDefaults(schema as Schema, doc, '$'), []);
  }
  // Every block with defaults was reached: the gateway's log, control, metrics, both uplink kinds with
  // their back-off, TLS, status and outbox; each source kind, its devices, back-off and rs485; steps; publish.
  assert.ok(defaultedSettings(gatewaySchema as Schema, gateway) >= 40, String(defaultedSettings(gatewaySchema as Schema, gateway)));
  assert.ok(defaultedSettings(pipelineSchema as Schema, pipeline) >= 50, String(defaultedSettings(pipelineSchema as Schema, pipeline)));
});

/**
 * Checked by tsc when the suite is built, never run: the types are closed, defaulted settings are
 * present, the others optional. Each `@ts-expect-error` fails the build if the line under it compiles.
 */
export function documentTypesAreDerived(gateway: GatewayDocument, pipeline: PipelineDocument): unknown[] {
  const mqtt = gateway.uplinks['broker']!.mqtt!;
  const device = pipeline.source.modbus_tcp!.devices[0]!;
  const defaulted: [number, string | number, boolean, number] = [pipeline.pipeline.batch.max_records, mqtt.reconnect.min, mqtt.tls.reject_unauthorized, device.port];
  // @ts-expect-error session_expiry has no default: it may be absent.
  const optional: string | number = mqtt.session_expiry;
  // @ts-expect-error no such setting in the schema.
  const unknown: unknown = pipeline.pipeline.batch.max_bytes;
  // @ts-expect-error no such source kind in the registry.
  const kind: unknown = pipeline.source.bacnet;
  return [defaulted, optional, unknown, kind];
}
