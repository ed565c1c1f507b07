/**
 * The rule language at load time: what parses, what is refused, and where each refusal points. Every
 * expected line:column is counted from the lines written here (line N of the pipeline file is element
 * N-1 of PIPELINE_HEAD followed by the rule lines; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression } from '../../src/host/rules/expression-parser.js';
import { loadRules, ruleSet, POINTS } from './rules-fixture.js';

function problems(loaded: Awaited<ReturnType<typeof loadRules>>): string[] {
  assert.equal(loaded.ok, false, 'expected problems');
  return loaded.ok ? [] : loaded.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.code} ${p.message}`);
}

test('precedence: not binds looser than a comparison, and looser than and; * before +', () => {
  const r = parseExpression('not a + 2 * b > 3 and c or d');
  assert.ok(r.ok);
  const e = r.expr;
  // ((not ((a + (2*b)) > 3)) and c) or d
  assert.equal(e.kind, 'logic');
  if (e.kind !== 'logic') return;
  assert.equal(e.op, 'or');
  assert.equal(e.left.kind, 'logic');
  if (e.left.kind !== 'logic') return;
  assert.equal(e.left.left.kind, 'not');
  if (e.left.left.kind !== 'not' || e.left.left.arg.kind !== 'compare' || e.left.left.arg.left.kind !== 'arith') return assert.fail('shape');
  assert.equal(e.left.left.arg.left.op, '+');
  assert.equal(e.left.left.arg.left.right.kind, 'arith');
});

test('names: dotted, device:point, and `backquoted` for names with other characters; durations carry units', () => {
  const r = parseExpression('plc1:boiler.temp > `tank-level` and stale(`plc-2:x`, 1.5s)');
  assert.ok(r.ok);
  if (!r.ok || r.expr.kind !== 'logic' || r.expr.left.kind !== 'compare' || r.expr.right.kind !== 'call') return assert.fail('shape');
  assert.deepEqual(r.expr.left.left, { kind: 'point', device: 'plc1', name: 'boiler.temp', span: { start: 0, end: 16 } });
  assert.deepEqual({ ...r.expr.left.right, span: undefined }, { kind: 'point', device: null, name: 'tank-level', span: undefined });
  assert.deepEqual(r.expr.right.args.map((a) => (a.kind === 'point' ? `${a.device}:${a.name}` : a.kind === 'duration' ? a.ms : a.kind)), ['plc-2:x', 1500]);
});

test('syntax errors point at the offending character', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['a > && b', 4, /&& is not an operator here: write and/],
    ['a = 3', 2, /write ==/],
    ['a < b < c', 6, /do not chain/],
    ['(a > 3', 6, /expected \) to close/],
    ['a > 3)', 5, /a \) without its \(/],
    ['a b', 2, /operator is missing/],
    ['stale(a, 10 s)', 12, /the name s after a complete|expected , or \)/],
    ['rate(a, 5min)', 9, /unknown unit min/],
    ['frobnicate(a)', 0, /unknown function frobnicate\(\)/],
    ['a > 1e', 5, /unknown unit e after 1/],
    ['', 0, /ends where a value/],
  ];
  for (const [text, offset, message] of cases) {
    const r = parseExpression(text);
    assert.equal(r.ok, false, text);
    if (r.ok) continue;
    assert.equal(r.error.offset, offset, `${text}: ${r.error.message}`);
    assert.match(r.error.message, message, text);
  }
});

test('nesting past the limit is refused, not a stack overflow', () => {
  const r = parseExpression(`${'('.repeat(200)}a${')'.repeat(200)} > 1`);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /nested more than 64/);
});

test('a valid rule set: points resolved to ids across devices, defaults applied, shared windows', async () => {
  const set = await ruleSet([
    '  - name: hot', // 22
    '    when: plc1:boiler.temp - plc2:boiler.temp > 5 and rate(plc1:boiler.temp, 10s) > 0.1', // 23
    '    for: 10s', // 24
    '  - name: hot-too', // 25
    '    when: rate(plc1:boiler.temp, 10s) > 0.5', // 26
    '    hysteresis: 0.2', // 27
    '    actions: { write: [ { point: boiler.stop, value: true, on_clear: false, interlock: "not boiler.running" } ] }', // 28
  ]);
  assert.equal(set.rules.length, 2);
  const [hot, hotToo] = set.rules;
  assert.deepEqual(hot!.points, [POINTS.temp, POINTS.temp2]);
  assert.equal(hot!.forMs, 10_000);
  assert.equal(hot!.severity, 'warning');
  assert.equal(hot!.actions.alarmTopic, 'wasmgate/{gateway}/{pipeline}/alarms/{rule}');
  assert.deepEqual(hot!.actions.rateLimit, { writes: 2, perMs: 60_000 });
  // One window of plc1's temp for 10 s, used by both rules: 10 s at 100 ms is 100 samples, plus both ends.
  assert.deepEqual(set.windows, [{ point: POINTS.temp, ms: 10_000, capacity: 102 }]);
  assert.deepEqual(hotToo!.actions.writes, [{ point: POINTS.stop, pointName: 'boiler.stop', device: 0, deviceName: 'plc1', value: 1, onClear: 0, interlock: 0 }]);
  assert.deepEqual(hotToo!.points, [POINTS.temp, POINTS.running]);
  assert.ok(hotToo!.relaxed);
});

test('unknown points, ambiguous points, types, read-only write targets and bad durations are refused at their position', async () => {
  const found = problems(await loadRules([
    '  - name: r1', // 22
    '    when: boiler.temp > 5', // 23: ambiguous, col 11
    '  - name: r2', // 24
    '    when: "plc1:boiler.tmp > 5 and stale(plc1:boiler.temp, 0s)"', // 25: unknown col 12; 0s col 60
    '  - name: r3', // 26
    '    when: plc1:boiler.temp + 1', // 27: a number, col 11
    '  - name: r4', // 28
    '    when: plc1:boiler.temp > boiler.running', // 29: number vs condition, col 11
    '    for: 5 s', // 30: bad duration, col 10
    '    actions: { write: [ { point: boiler.pressure, value: 1 }, { point: nope, value: 1 } ] }', // 31: read-only col 34; unknown col 72
    '  - name: r5', // 32
    '    when: "`tank-level` == 3"', // 33
    '    hysteresis: 1', // 34: == cannot move, col 17
    '  - name: r6', // 35
    '    when: plc2:boiler.temp > 1', // 36
    '    clear: plc2:boiler.temp < 0', // 37
    '    hysteresis: 1', // 38: conflict with clear, col 17
  ]));
  assert.deepEqual(found.map((f) => f.split(' ').slice(0, 3).join(' ')), [
    '23:11 rules[0].when WG_ERR_CONFIG_RULE',
    '25:12 rules[1].when WG_ERR_CONFIG_RULE',
    '25:60 rules[1].when WG_ERR_CONFIG_RULE',
    '27:11 rules[2].when WG_ERR_CONFIG_RULE',
    '29:11 rules[3].when WG_ERR_CONFIG_RULE',
    '30:10 rules[3].for WG_ERR_CONFIG_INVALID',
    '31:34 rules[3].actions.write[0].point WG_ERR_CONFIG_RULE',
    '31:72 rules[3].actions.write[1].point WG_ERR_CONFIG_RULE',
    '34:17 rules[4].hysteresis WG_ERR_CONFIG_RULE',
    '38:17 rules[5].hysteresis WG_ERR_CONFIG_CONFLICT',
  ]);
  assert.match(found[0]!, /on devices plc1, plc2: say which, as plc1:boiler.temp/);
  assert.match(found[1]!, /no point boiler.tmp on device plc1 in this pipeline \(did you mean boiler.temp\?\)/);
  assert.match(found[2]!, /longer than 0 ms/);
  assert.match(found[6]!, /read-only/);
});

test('an included rules file: its problems name it, and a rule name used twice names the first', async () => {
  const { ConfigWorkspace, gatewayLines } = await import('./config-workspace.js');
  const { PIPELINE_HEAD } = await import('./rules-fixture.js');
  const { loadGatewayConfig } = await import('../../src/host/config/index.js');
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...PIPELINE_HEAD, '  - { name: a, when: "plc2:boiler.temp > 1" }', '  - include: rules/more.yaml']);
    await ws.write('rules/more.yaml', [
      'rules:', // 1
      '  - name: a', // 2: duplicate, col 11
      '    when: >', // 3
      '      plc2:boiler.temp', // 4
      '      >> 1', // 5: second > at col 8
    ]);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['p.yaml'])));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(result.problems.map((p) => `${p.file.slice(ws.dir.length + 1)}:${p.line}:${p.column} ${p.code}`), [
      'rules/more.yaml:2:11 WG_ERR_CONFIG_DUPLICATE_NAME',
      'rules/more.yaml:5:8 WG_ERR_CONFIG_RULE',
    ]);
    assert.match(result.problems[0]!.message, /p\.yaml:22/);
  } finally {
    await ws.remove();
  }
});

test('a missing rules file is a problem at the include', async () => {
  const found = problems(await loadRules(['  - include: nowhere.yaml'])); // 22, value col 14
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^22:14 rules\[0\]\.include WG_ERR_CONFIG_FILE_UNREADABLE/);
});

test('a window too long for its point\'s poll interval is refused, saying why', async () => {
  const found = problems(await loadRules(['  - { name: slow, when: "rate(plc1:boiler.temp, 1h) > 1" }'])); // 22: 1h at col 49
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^22:49 .*holds 36002 samples; at most 4096/);
});

test('a rule set whose module cannot run within plugin_memory is refused at load, at rules', async () => {
  const { ConfigWorkspace, gatewayLines } = await import('./config-workspace.js');
  const { PIPELINE_HEAD } = await import('./rules-fixture.js');
  const { loadGatewayConfig } = await import('../../src/host/config/index.js');
  const ws = await ConfigWorkspace.create();
  try {
    // 40 windows of 400 s at a 100 ms poll: 4002 samples each, 16 bytes a sample: 2.5 MiB, above 1 MiB.
    const rules = Array.from({ length: 40 }, (_, i) => `  - { name: w${i}, when: "rate(plc1:boiler.temp, ${400_000 + i * 100}ms) > 1" }`);
    const head = PIPELINE_HEAD.map((l) => (l === '  name: p1' ? '  name: p1\n  plugin_memory: 1MiB' : l));
    await ws.write('p.yaml', [...head, ...rules]);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['p.yaml'])));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]!.path, 'rules');
    assert.match(result.problems[0]!.message, /cannot run: .*memory/);
  } finally {
    await ws.remove();
  }
});
