/**
 * Regression (hostile tester, issue 10): a rule's write value was checked at load for bool against
 * number only, so 70000 for a uint16 register or -1 for an unsigned one loaded, and failed only when
 * the rule fired, in the decoder, during the outage the rule was for. Now each value (and on_clear)
 * is checked against its point's type, scale and offset as the modbus decoder encodes it (rounded to
 * the nearest integer, ties to even), and refused at its file:line:col. The ranges are the types'
 * (int16 −32768..32767, uint16 0..65535, uint32 0..4294967295), worked out by hand below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

const HEAD = [
  'pipeline: { name: p1 }', // 1
  'source:', // 2
  '  modbus_tcp:', // 3
  '    devices:', // 4
  '      - name: plc1', // 5
  '        host: 127.0.0.1', // 6
  '        points:', // 7
  '          - { name: cmd, function: 3, address: 10, type: uint16, access: write }', // 8
  '          - { name: setpoint, function: 3, address: 11, type: int16, scale: 0.1, access: write }', // 9
  '          - { name: flow, function: 3, address: 12, type: float32, access: write }', // 10
  '          - { name: total, function: 3, address: 14, type: uint32, access: write }', // 11
  '          - { name: stop, function: 1, address: 0, type: bool, access: write }', // 12
  'steps: [ { plugin: fixture-decoder }, { plugin: fixture-encoder } ]', // 13
  'publish: { uplink: cloud, topic: "w/{device}/{point}" }', // 14
  'rules:', // 15
];

async function load(rules: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...HEAD, ...rules]);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['p.yaml'])));
  } finally {
    await ws.remove();
  }
}

/** `line:column` of `text` in rule line `line` (from 16), counted from 1. */
const at = (rules: string[], line: number, text: string) => `${line}:${rules[line - 16]!.indexOf(text) + 1}`;

test('write values out of their point\'s range are refused at load, each at its position', async () => {
  const rules = [
    '  - { name: a, when: "cmd > 1", actions: { write: [ { point: cmd, value: 70000 } ] } }', // 16
    '  - { name: b, when: "cmd > 1", actions: { write: [ { point: cmd, value: 1, on_clear: -1 } ] } }', // 17
    '  - { name: c, when: "cmd > 1", actions: { write: [ { point: cmd, value: 65535.5 } ] } }', // 18: ties to even, 65536
    '  - { name: d, when: "cmd > 1", actions: { write: [ { point: setpoint, value: 3300 } ] } }', // 19: raw 33000
    '  - { name: e, when: "cmd > 1", actions: { write: [ { point: flow, value: 1e39 } ] } }', // 20: float32 tops at 3.4e38
    '  - { name: f, when: "cmd > 1", actions: { write: [ { point: total, value: 4294967296 } ] } }', // 21: 2^32
    '  - { name: g, when: "cmd > 1", actions: { write: [ { point: stop, value: 2 } ] } }', // 22: a coil takes true/false
  ];
  const result = await load(rules);
  assert.equal(result.ok, false);
  const found = result.ok ? [] : result.problems.map((p) => ({ where: `${p.line}:${p.column}`, path: p.path, code: p.code, message: p.message }));
  assert.deepEqual(found.map((f) => [f.where, f.path, f.code]), [
    [at(rules, 16, '70000'), 'rules[0].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 17, '-1'), 'rules[1].actions.write[0].on_clear', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 18, '65535.5'), 'rules[2].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 19, '3300'), 'rules[3].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 20, '1e39'), 'rules[4].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 21, '4294967296'), 'rules[5].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
    [at(rules, 22, '2 }'), 'rules[6].actions.write[0].value', 'WG_ERR_CONFIG_RULE'],
  ]);
  assert.match(found[0]!.message, /70000 is out of the range of uint16 \(0 up to 65535\)/);
  assert.match(found[1]!.message, /-1 is out of the range of uint16/);
  assert.match(found[3]!.message, /3300 \(33000 in the register after scale 0\.1 and offset 0\) is out of the range of int16/);
  assert.match(found[4]!.message, /overflows a float32/);
  assert.match(found[6]!.message, /bool point: write true or false/);
});

test('values at the edges of their range load', async () => {
  const result = await load([
    '  - { name: a, when: "cmd > 1", actions: { write: [ { point: cmd, value: 65535, on_clear: 0 } ] } }',
    '  - { name: b, when: "cmd > 1", actions: { write: [ { point: cmd, value: 65534.5 } ] } }', // ties to even: 65534
    '  - { name: c, when: "cmd > 1", actions: { write: [ { point: setpoint, value: -3276.8, on_clear: 3276.7 } ] } }',
    '  - { name: d, when: "cmd > 1", actions: { write: [ { point: flow, value: -3e38 } ] } }',
    '  - { name: e, when: "cmd > 1", actions: { write: [ { point: total, value: 4294967295 } ] } }',
    '  - { name: f, when: "cmd > 1", actions: { write: [ { point: stop, value: true, on_clear: 0 } ] } }',
  ]);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
});
