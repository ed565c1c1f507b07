/**
 * Rule sets for the rules tests, made the way the daemon makes them: a gateway file and a pipeline
 * file written to a scratch directory and loaded by the config loader, so that each test's rules go
 * through the parser, the checks and resolution. Two devices: plc1 (boiler points) and plc2.
 */
import assert from 'node:assert/strict';
import { loadGatewayConfig, type ConfigProblem } from '../../src/host/config/index.js';
import type { RuleSet } from '../../src/host/rules/rule-set.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

/** Point ids: plc1's points first, in this order, then plc2's. */
export const POINTS = { temp: 0, pressure: 1, running: 2, stop: 3, level: 4, temp2: 5 } as const;

/** Lines 1-21 of the pipeline; `rules:` lines follow from line 22. */
export const PIPELINE_HEAD = [
  'pipeline:', // 1
  '  name: p1', // 2
  'source:', // 3
  '  modbus_tcp:', // 4
  '    devices:', // 5
  '      - name: plc1', // 6
  '        host: 127.0.0.1', // 7
  '        interval: 100ms', // 8
  '        points:', // 9
  '          - { name: boiler.temp, function: 3, address: 0, type: int16 }', // 10
  '          - { name: boiler.pressure, function: 4, address: 1, type: int16 }', // 11
  '          - { name: boiler.running, function: 2, address: 0, type: bool }', // 12
  '          - { name: boiler.stop, function: 1, address: 0, type: bool, access: read_write }', // 13
  '          - { name: tank-level, function: 3, address: 2, type: uint16, access: write }', // 14
  '      - name: plc2', // 15
  '        host: 127.0.0.2', // 16
  '        points:', // 17
  '          - { name: boiler.temp, function: 3, address: 0, type: int16 }', // 18
  'steps: [ { plugin: fixture-decoder }, { plugin: fixture-encoder } ]', // 19
  'publish: { uplink: cloud, topic: "w/{device}/{point}" }', // 20
  'rules:', // 21
];

export async function loadRules(rules: readonly string[]): Promise<{ ok: true; set: RuleSet } | { ok: false; problems: ConfigProblem[] }> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...PIPELINE_HEAD, ...rules]);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['p.yaml'])));
    return result.ok ? { ok: true, set: result.config.pipelines[0]!.rules } : { ok: false, problems: result.problems };
  } finally {
    await ws.remove();
  }
}

export async function ruleSet(rules: readonly string[]): Promise<RuleSet> {
  const loaded = await loadRules(rules);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}`).join('\n'));
  return loaded.set;
}
