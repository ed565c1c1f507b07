// Rule writes to BACnet points at load (docs/rules.md, Actions): a writable output or value object's
// present-value may be a target, its value checked against the object type's datatype (REAL,
// inactive/active, a state number from 1), and a clear relinquishes by default; a read-only point, a
// value the type cannot hold and an unknown on_clear word are refused at their file:line:col.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig, type ConfigProblem } from '../../src/host/config/index.js';
import type { RuleSet } from '../../src/host/rules/rule-set.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

const HEAD = [
  'pipeline: { name: bms }', // 1
  'source:', // 2
  '  bacnet_ip:', // 3
  '    devices:', // 4
  '      - name: ahu', // 5
  '        host: 127.0.0.1', // 6
  '        device_instance: 7', // 7
  '        points:', // 8
  '          - { name: temp, object_type: analog-input, instance: 1 }', // 9
  '          - { name: valve, object_type: analog-output, instance: 2, access: write, write_priority: 8 }', // 10
  '          - { name: fan, object_type: binary-output, instance: 3, access: write, write_priority: 5 }', // 11
  '          - { name: mode, object_type: multi-state-value, instance: 4, access: read_write, write_priority: 10 }', // 12
  '          - { name: damper, object_type: analog-value, instance: 5, access: write }', // 13
  'steps: [ { plugin: fixture-decoder }, { plugin: fixture-encoder } ]', // 14
  'publish: { uplink: cloud, topic: "w/{device}/{point}" }', // 15
  'rules:', // 16
];

async function load(rules: string[]): Promise<{ ok: true; set: RuleSet } | { ok: false; problems: ConfigProblem[] }> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...HEAD, ...rules]);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['p.yaml'])));
    return result.ok ? { ok: true, set: result.config.pipelines[0]!.rules } : { ok: false, problems: result.problems };
  } finally {
    await ws.remove();
  }
}

test('a BACnet point is a write target; a clear relinquishes unless on_clear says a value or none', async () => {
  const loaded = await load([
    '  - name: hot', // 17
    '    when: temp > 30', // 18
    '    actions:', // 19
    '      write:', // 20
    '        - { point: valve, value: 100 }', // 21
    '        - { point: fan, value: true, on_clear: none }', // 22
    '        - { point: mode, value: 3, on_clear: 1 }', // 23
    '        - { point: ahu:valve, value: 80, on_clear: relinquish }', // 24
  ]);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.map((p) => p.message).join('\n'));
  const writes = loaded.set.rules[0]!.actions.writes;
  assert.deepEqual(writes.map((w) => [w.pointName, w.value, w.onClear]), [['valve', 100, 'relinquish'], ['fan', 1, null], ['mode', 3, 1], ['valve', 80, 'relinquish']]);
  // A word, not NaN: the pipeline's fingerprint (its JSON) must tell a relinquish from none, or a
  // reload that changes one into the other would be taken for no change.
  assert.notEqual(JSON.stringify(writes[0]), JSON.stringify({ ...writes[0], onClear: null }));
});

test('refused at load, at the value: a read-only BACnet point, values its datatype cannot hold, relinquish as a word it does not know', async () => {
  const loaded = await load([
    '  - name: hot', // 17
    '    when: temp > 30', // 18
    '    actions:', // 19
    '      write:', // 20
    '        - { point: temp, value: 1 }', // 21
    '        - { point: fan, value: 2 }', // 22
    '        - { point: mode, value: 1.5 }', // 23
    '        - { point: mode, value: 0 }', // 24
    '        - { point: valve, value: 1e39 }', // 25
    '        - { point: valve, value: true }', // 26
    '        - { point: valve, value: 1, on_clear: later }', // 27
  ]);
  assert.equal(loaded.ok, false);
  const found = loaded.ok ? [] : loaded.problems;
  assert.deepEqual(found.map((p) => [p.line, p.path]), [
    [21, 'rules[0].actions.write[0].point'],
    [22, 'rules[0].actions.write[1].value'],
    [23, 'rules[0].actions.write[2].value'],
    [24, 'rules[0].actions.write[3].value'],
    [25, 'rules[0].actions.write[4].value'],
    [26, 'rules[0].actions.write[5].value'],
    [27, 'rules[0].actions.write[6].on_clear'],
  ]);
  // Column of the value on line 22: after "        - { point: fan, value: ".
  assert.equal(found[1]!.column, '        - { point: fan, value: '.length + 1);
  assert.match(found[0]!.message, /point temp of device ahu is read-only/);
  assert.match(found[1]!.message, /fan of device ahu: a binary present-value is inactive \(0, false\) or active \(1, true\) \(got 2\)/);
  assert.match(found[2]!.message, /a multi-state present-value is a state number: a whole number from 1 \(got 1\.5\)/);
  assert.match(found[3]!.message, /a multi-state present-value is a state number/);
  assert.match(found[4]!.message, /an analog present-value is a REAL \(float32\)/);
  assert.match(found[5]!.message, /a real present-value takes a number/);
  assert.match(found[6]!.message, /on_clear takes a value, relinquish or none \(got "later"\)/);
});

test('a rule may not command a BACnet point that has no write_priority: its relinquish would empty 16, often the schedule', async () => {
  const loaded = await load([
    '  - name: hot', // 17
    '    when: temp > 30', // 18
    '    actions: { write: [ { point: damper, value: 20 } ] }', // 19
  ]);
  assert.equal(loaded.ok, false);
  const found = loaded.ok ? [] : loaded.problems;
  assert.deepEqual(found.map((p) => [p.line, p.column, p.path]), [[19, '    actions: { write: [ { point: '.length + 1, 'rules[0].actions.write[0].point']]);
  assert.match(found[0]!.message, /BACnet point damper of device ahu has no write_priority/);
});

test('on a Modbus point a clear writes nothing unless told, and relinquish is refused: it has no priority array', async () => {
  const { loadRules } = await import('./rules-fixture.js');
  const loaded = await loadRules([
    '  - name: r1', // 22
    '    when: plc1:boiler.temp > 90', // 23
    '    actions: { write: [ { point: boiler.stop, value: true }, { point: boiler.stop, value: true, on_clear: relinquish } ] }', // 24
  ]);
  assert.equal(loaded.ok, false);
  const found = loaded.ok ? [] : loaded.problems;
  assert.deepEqual(found.map((p) => [p.line, p.path]), [[24, 'rules[0].actions.write[1].on_clear']]);
  assert.match(found[0]!.message, /relinquish empties a BACnet point's priority; boiler.stop is a Modbus point/);
  const { ruleSet } = await import('./rules-fixture.js');
  const set = await ruleSet(['  - name: r1', '    when: plc1:boiler.temp > 90', '    actions: { write: [ { point: boiler.stop, value: true }, { point: boiler.stop, value: false, on_clear: none } ] }']);
  assert.deepEqual(set.rules[0]!.actions.writes.map((w) => w.onClear), [null, null]);
});
