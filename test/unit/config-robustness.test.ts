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
import { ConfigWorkspace, gatewayLines, pipelineLines } from './config-workspace.js';

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
    const pipeline = parse(pipelineLines().join('\n')) as unknown;
    const targets = [
      ...pathsOf(gateway).map((path) => ({ file: 'gw.yaml', path })),
      ...pathsOf(pipeline).map((path) => ({ file: 'p.yaml', path })),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.jsonValue({ maxDepth: 3 }), async (target, value) => {
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
      { numRuns: 150 },
    );
  } finally {
    await ws.remove();
  }
});
