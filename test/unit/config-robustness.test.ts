/**
 * Whatever a file holds, loading reports problems and never throws: a valid configuration has one of
 * its settings (at any depth) replaced by an arbitrary YAML value, and the loader must come back with
 * either a resolved config or positioned problems.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

/**
 * A valid pipeline with every part of a source that the checks cross-reference: profiles with point
 * defaults, register blocks, a Modbus TCP connection shared by two devices, an RTU-over-TCP bus, a
 * device with both a profile and points of its own, write settings, and a topic with {device}.
 */
const PIPELINE = [
  'pipeline:',
  '  name: boiler-room',
  'profiles:',
  '  meter:',
  '    point_defaults: { unit: kWh, scale: 0.1 }',
  '    points:',
  '      - { name: kwh, function: 4, address: 0, type: uint32, order: CDAB }',
  '      - { name: "r{index}", function: 3, registers: "10..13", type: uint16 }',
  'source:',
  '  modbus_tcp:',
  '    devices:',
  '      - name: plc1',
  '        host: 127.0.0.1',
  '        connection: gw',
  '        in_flight: 2',
  '        points:',
  '          - { name: boiler.temp, function: 3, address: 0, type: int16, access: read_write, write_function: 6 }',
  '          - { name: "hr{address}", function: 3, registers: "100..103", type: float32 }',
  '          - { name: tag, function: 3, address: 200, type: string, length: 4 }',
  '      - name: plc2',
  '        host: 127.0.0.1',
  '        connection: gw',
  '        in_flight: 2',
  '        unit_id: 2',
  '        profile: meter',
  '  modbus_rtu_over_tcp:',
  '    buses:',
  '      - name: hall',
  '        host: 127.0.0.1',
  '        port: 4001',
  '        silence: 2ms',
  '        backoff: { min: 1s, max: 10s }',
  '        devices:',
  '          - { name: m1, unit_id: 1, profile: meter, turnaround: 5ms, quarantine_after: 2 }',
  '          - name: m2',
  '            unit_id: 2',
  '            profile: meter',
  '            point_defaults: { scale: 1, access: read_write }',
  '            points: [ { name: run, function: 1, address: 0, type: bool, write_function: 5 } ]',
  'steps:',
  '  - plugin: fixture-decoder',
  '  - plugin: fixture-transform',
  '  - plugin: fixture-encoder',
  'publish:',
  '  uplink: cloud',
  '  topic: "wasmgate/{gateway}/{pipeline}/{device}/{point}"',
];

/**
 * Any JSON value, nothing (the setting removed), or a value of the kind these settings take, so that
 * replacements also reach the checks behind the schema (a range, a name pattern, a profile's name).
 */
const ANY_VALUE = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(undefined),
  fc.constantFrom('0..1', '9..0', '0..70000', 'r{index}', '{address}', 'gw', 'hall', 'meter', 'plc1', '1s', '0ms', 'read_write', 'write', 'CDAB', 'string'),
  fc.integer({ min: -2, max: 70_000 }),
);

/** Every path to a value inside `value` (map keys and list indexes), the root included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => pathsOf(v, [...prefix, i])));
  if (value !== null && typeof value === 'object') {
    return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k])));
  }
  return here;
}

function replaced(value: unknown, path: readonly (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let here = copy;
  for (const segment of path.slice(0, -1)) here = here[segment] as Record<string | number, unknown>;
  here[path[path.length - 1] as string | number] = by;
  return copy;
}

test('any setting replaced by any value yields problems or a config, never an exception', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const gateway = parse(gatewayLines().join('\n')) as unknown;
    const pipeline = parse(PIPELINE.join('\n')) as unknown;
    await ws.write('gw.yaml', [stringify(gateway)]);
    await ws.write('p.yaml', [stringify(pipeline)]);
    const base = await loadGatewayConfig(ws.path('gw.yaml'));
    assert.ok(base.ok, `the base configuration is valid: ${base.ok ? '' : JSON.stringify(base.problems)}`);
    const targets = [
      ...pathsOf(gateway).map((path) => ({ file: 'gw.yaml', path })),
      ...pathsOf(pipeline).map((path) => ({ file: 'p.yaml', path })),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), ANY_VALUE, async (target, value) => {
        const g = target.file === 'gw.yaml' ? replaced(gateway, target.path, value) : gateway;
        const p = target.file === 'p.yaml' ? replaced(pipeline, target.path, value) : pipeline;
        await ws.write('gw.yaml', [stringify(g)]);
        await ws.write('p.yaml', [stringify(p)]);
        const result = await loadGatewayConfig(ws.path('gw.yaml'));
        if (!result.ok) {
          assert.ok(result.problems.length > 0);
          for (const problem of result.problems) {
            assert.ok(problem.line >= 1 && problem.column >= 1, JSON.stringify(problem));
            // An unfilled template field renders as `<field?>`; a key the property wrote may itself contain `?>`.
            assert.ok(problem.message.length > 0 && !/<[A-Za-z_]+\?>/.test(problem.message), JSON.stringify(problem));
          }
        }
      }),
      // fast-check draws a new seed each run (and prints it with a counterexample).
      { numRuns: 200 },
    );
  } finally {
    await ws.remove();
  }
});
