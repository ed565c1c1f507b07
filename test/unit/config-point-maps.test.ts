/**
 * Register maps through the loader: profiles used by many devices, the chain of point defaults,
 * register blocks, and which points may be written with which function. Expected values are the
 * documented defaults (docs/config.md), Modbus register widths (a 32-bit value takes two registers),
 * or counted from the lines written below (line N is element N-1 of the array; columns from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem, type ResolvedPipeline } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';
import { modbusPoints } from '../support/modbus-points.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

async function load(lines: string[]): Promise<Awaited<ReturnType<typeof loadGatewayConfig>>> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
  } finally {
    await ws.remove();
  }
}

async function problemsOf(lines: string[]): Promise<ConfigProblem[]> {
  const result = await load(lines);
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

async function resolved(lines: string[]): Promise<ResolvedPipeline> {
  const result = await load(lines);
  if (!result.ok) assert.fail(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  return result.config.pipelines[0]!;
}

const TAIL = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud', '  topic: "site/{device}/{point}"'];

/** Lines 1-8: one modbus_tcp device whose points follow from line 9. */
const ONE_DEVICE = [
  'pipeline:', // 1
  '  name: p1', // 2
  'source:', // 3
  '  modbus_tcp:', // 4
  '    devices:', // 5
  '      - name: plc1', // 6
  '        host: 10.0.0.5', // 7
  '        points:', // 8
];

test('ten devices of one profile each get its points, numbered across the devices', async () => {
  const meters = Array.from({ length: 10 }, (_, i) => `          - { name: m${i + 1}, unit_id: ${i + 1}, profile: em }`);
  const pipeline = await resolved([
    'pipeline:', // 1
    '  name: meters', // 2
    'profiles:', // 3
    '  em:', // 4
    '    description: three-phase energy meter', // 5
    '    point_defaults: { unit: V, scale: 0.1 }', // 6
    '    points:', // 7
    '      - { name: v1, function: 4, address: 0, type: int32, order: CDAB }', // 8
    '      - { name: v2, function: 4, address: 2, type: int32, order: CDAB }', // 9
    '      - { name: kwh, function: 4, address: 52, type: uint32, order: CDAB, unit: kWh, scale: 1 }', // 10
    'source:', // 11
    '  modbus_rtu_over_tcp:', // 12
    '    buses:', // 13
    '      - name: hall', // 14
    '        host: 10.0.0.9', // 15
    '        port: 4001', // 16
    '        devices:', // 17
    ...meters, // 18-27
    ...TAIL,
  ]);
  assert.equal(pipeline.source.devices.length, 10);
  assert.equal(pipeline.points.length, 30);
  const map = [
    { name: 'v1', address: 0, type: 'int32', unit: 'V', scale: 0.1 },
    { name: 'v2', address: 2, type: 'int32', unit: 'V', scale: 0.1 },
    { name: 'kwh', address: 52, type: 'uint32', unit: 'kWh', scale: 1 },
  ];
  for (let d = 0; d < 10; d++) {
    const device = pipeline.source.devices[d]!;
    assert.equal(device.name, `m${d + 1}`);
    assert.equal(device.unitId, d + 1);
    assert.equal(device.link, 0);
    assert.deepEqual(
      modbusPoints(device.points).map((p) => ({ id: p.id, device: p.device, name: p.name, address: p.address, type: p.type, unit: p.unit, scale: p.scale, order: p.order, registers: p.registers })),
      map.map((m, k) => ({ id: d * 3 + k, device: d, ...m, order: 'CDAB', registers: 2 })),
    );
  }
  // A point's id is its index in the pipeline's points (the ABI's point id).
  assert.deepEqual(pipeline.points.map((p) => p.id), Array.from({ length: 30 }, (_, i) => i));
});

test("a device's own points follow its profile's; the defaults go point, device, profile, built-in", async () => {
  const pipeline = await resolved([
    'pipeline:', // 1
    '  name: p1', // 2
    'profiles:', // 3
    '  pm:', // 4
    '    point_defaults: { scale: 0.01, unit: A, order: CDAB, offset: 5, access: read_write }', // 5
    '    points:', // 6
    '      - { name: p.plain, function: 3, address: 0, type: int32 }', // 7
    '      - { name: p.own, function: 3, address: 2, type: int32, scale: 2, unit: W, order: BADC, offset: -1, access: read }', // 8
    'source:', // 9
    '  modbus_tcp:', // 10
    '    devices:', // 11
    '      - name: d1', // 12
    '        host: 10.0.0.5', // 13
    '        profile: pm', // 14
    '        point_defaults: { scale: 0.1, unit: kW }', // 15
    '        points:', // 16
    '          - { name: d.extra, function: 4, address: 9, type: uint16 }', // 17
    '          - { name: d.set, function: 3, address: 20, type: int16, access: write, write_function: 6 }', // 18
    '      - name: d2', // 19
    '        host: 10.0.0.6', // 20
    '        profile: pm', // 21
    ...TAIL,
  ]);
  const view = modbusPoints(pipeline.points).map((p) => [p.device, p.name, p.scale, p.unit, p.order, p.offset, p.access, p.writeFunction]);
  assert.deepEqual(view, [
    // d1: the profile's points take d1's point_defaults over the profile's, where d1 gives one.
    [0, 'p.plain', 0.1, 'kW', 'CDAB', 5, 'read_write', null],
    [0, 'p.own', 2, 'W', 'BADC', -1, 'read', null],
    // d1's own points: its point_defaults, then the built-in defaults (the profile's are for its map).
    [0, 'd.extra', 0.1, 'kW', 'ABCD', 0, 'read', null],
    [0, 'd.set', 0.1, 'kW', 'ABCD', 0, 'write', 6],
    // d2 gives no defaults: the profile's apply.
    [1, 'p.plain', 0.01, 'A', 'CDAB', 5, 'read_write', null],
    [1, 'p.own', 2, 'W', 'BADC', -1, 'read', null],
  ]);
});

test('a missing profile is named with the known ones; a point name in both profile and device is refused', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'profiles:', // 3
    '  em24: { points: [ { name: kwh, function: 4, address: 52, type: int32 } ] }', // 4
    '  pm5: { points: [ { name: kw, function: 3, address: 0, type: float32 } ] }', // 5
    'source:', // 6
    '  modbus_tcp:', // 7
    '    devices:', // 8
    '      - { name: a, host: 10.0.0.5, profile: em2 }', // 9: profile value col 45
    '      - name: b', // 10
    '        host: 10.0.0.5', // 11
    '        profile: em24', // 12
    '        points:', // 13
    '          - { name: kwh, function: 3, address: 100, type: uint32 }', // 14: name value col 21
    '      - { name: c, host: 10.0.0.5 }', // 15: neither points nor profile; the device map at col 9
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:9:45 source.modbus_tcp.devices[0].profile WG_ERR_CONFIG_INVALID',
    'p.yaml:14:21 source.modbus_tcp.devices[1].points[0].name WG_ERR_CONFIG_DUPLICATE_NAME',
    'p.yaml:15:9 source.modbus_tcp.devices[2].points WG_ERR_CONFIG_INVALID',
  ]);
  assert.equal(problems[0]!.message, 'no profile "em2" in this pipeline\'s profiles: (it has em24, pm5)');
  assert.equal(problems[1]!.message, 'point name "kwh" is already used at profiles.em24.points[0] (line 4)');
  assert.equal(problems[2]!.message, 'a device needs points: or profile: (a profile of this pipeline)');

  const none = await problemsOf([...ONE_DEVICE.slice(0, 7), '        profile: em', ...TAIL]); // 8: col 18
  assert.deepEqual(where(none), ['p.yaml:8:18 source.modbus_tcp.devices[0].profile WG_ERR_CONFIG_INVALID']);
  assert.equal(none[0]!.message, 'no profile "em" in this pipeline\'s profiles: (it has none)');
});

// Regression: a name used twice inside a profile was reported once at the profile and once more for
// every device that used the profile, all at the same position.
test("a profile's own problem is reported once, at the profile, however many devices use it", async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'profiles:', // 3
    '  em:', // 4
    '    points:', // 5
    '      - { name: kwh, function: 4, address: 0, type: int32 }', // 6
    '      - { name: kwh, function: 4, address: 2, type: int32 }', // 7: name value col 17
    '      - { name: s, function: 3, address: 9, type: string }', // 8: no length; the point map at col 9
    'source:', // 9
    '  modbus_tcp:', // 10
    '    devices:', // 11
    '      - { name: a, host: 10.0.0.5, profile: em }', // 12
    '      - { name: b, host: 10.0.0.5, profile: em }', // 13
    '      - { name: c, host: 10.0.0.5, profile: em }', // 14
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:7:17 profiles.em.points[1].name WG_ERR_CONFIG_DUPLICATE_NAME',
    'p.yaml:8:9 profiles.em.points[2].length WG_ERR_CONFIG_INVALID',
  ]);
});

test('a register block makes one point per value: {index} and {address} in its name', async () => {
  const pipeline = await resolved([
    ...ONE_DEVICE,
    '          - { name: "r{index}", function: 3, registers: "0..99", type: uint16, unit: raw }', // 9
    '          - { name: "f{index}.at{address}", function: 4, registers: 0..9, type: float32, order: CDAB }', // 10
    '          - { name: "coil{address}", function: 1, registers: " 100 .. 102 ", type: bool }', // 11
    '          - { name: one, function: 3, registers: 500..500, type: int16 }', // 12: a block of one needs no placeholder
    ...TAIL,
  ]);
  const points = modbusPoints(pipeline.points);
  assert.equal(points.length, 100 + 5 + 3 + 1);
  const regs = points.slice(0, 100);
  assert.deepEqual(regs.map((p) => p.name), Array.from({ length: 100 }, (_, i) => `r${i}`));
  assert.deepEqual(regs.map((p) => p.address), Array.from({ length: 100 }, (_, i) => i));
  assert.ok(regs.every((p) => p.type === 'uint16' && p.unit === 'raw' && p.registers === 1 && p.function === 3));
  // A float32 takes two registers: 0..9 holds five, at 0, 2, 4, 6, 8.
  assert.deepEqual(points.slice(100, 105).map((p) => [p.name, p.address, p.registers, p.order]), [
    ['f0.at0', 0, 2, 'CDAB'], ['f1.at2', 2, 2, 'CDAB'], ['f2.at4', 4, 2, 'CDAB'], ['f3.at6', 6, 2, 'CDAB'], ['f4.at8', 8, 2, 'CDAB'],
  ]);
  assert.deepEqual(points.slice(105).map((p) => [p.name, p.function, p.address]), [
    ['coil100', 1, 100], ['coil101', 1, 101], ['coil102', 1, 102], ['one', 3, 500],
  ]);
  assert.deepEqual(points.map((p) => p.id), Array.from({ length: 109 }, (_, i) => i));
});

// Regression (line 12): a block whose name has no {index} or {address} was reported once for the name
// and then again as a duplicate name for each of its other points, all at the same position.
test('register blocks that cannot be cut into values, or whose names would repeat, are refused', async () => {
  const problems = await problemsOf([
    ...ONE_DEVICE,
    '          - { name: "a{index}", function: 3, registers: "0..4", type: float32 }', // 9: 5 registers, col 57
    '          - { name: "b{index}", function: 3, registers: "9..0", type: uint16 }', // 10: reversed, col 57
    '          - { name: "c{index}", function: 3, registers: "65530..65536", type: uint16 }', // 11: past 65535, col 57
    '          - { name: "d", function: 3, registers: "0..3", type: uint16 }', // 12: one name for 4 points, col 21
    '          - { name: "e{index}", function: 3, address: 7, type: uint16 }', // 13: {index} outside a block, col 21
    '          - { name: "f{index}", function: 3, registers: "0..1", address: 0, type: uint16 }', // 14: both, registers col 57
    '          - { name: "g{index}", function: 3, registers: "0-9", type: uint16 }', // 15: not first..last, col 57
    '          - { name: "h{index}", function: 3, registers: "65534..65535", type: float32, length: 2 }', // 16: length on float32, col 96
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:9:57 source.modbus_tcp.devices[0].points[0].registers WG_ERR_CONFIG_INVALID',
    'p.yaml:10:57 source.modbus_tcp.devices[0].points[1].registers WG_ERR_CONFIG_INVALID',
    'p.yaml:11:57 source.modbus_tcp.devices[0].points[2].registers WG_ERR_CONFIG_INVALID',
    'p.yaml:12:21 source.modbus_tcp.devices[0].points[3].name WG_ERR_CONFIG_INVALID',
    'p.yaml:13:21 source.modbus_tcp.devices[0].points[4].name WG_ERR_CONFIG_INVALID',
    'p.yaml:14:57 source.modbus_tcp.devices[0].points[5].registers WG_ERR_CONFIG_CONFLICT',
    'p.yaml:15:57 source.modbus_tcp.devices[0].points[6].registers WG_ERR_CONFIG_INVALID',
    'p.yaml:16:96 source.modbus_tcp.devices[0].points[7].length WG_ERR_CONFIG_CONFLICT',
  ]);
  const messages = problems.map((p) => p.message);
  assert.equal(messages[0], '0..4 is 5 registers, not a whole number of float32 values of 2 each');
  assert.equal(messages[1], 'must run from a lower to a higher address (got 9..0)');
  assert.equal(messages[2], 'ends at 65536, past the last address 65535');
  assert.equal(messages[3], 'a block of 4 points needs {index} or {address} in its name, or every point would be "d"');
  assert.match(messages[4]!, /^\{index\} and \{address\} name the points of a block/);
  assert.match(messages[5]!, /^registers \(a block\) and address \(one point\) exclude each other/);
  assert.match(messages[6]!, /^must be /);
});

// Regression: a block whose range or name the schema refused (a number, not text) crashed the loader
// with a TypeError while the names were checked, instead of being reported.
test('a register block with a range or name of the wrong type is reported, not a crash', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'profiles:', // 3
    '  em:', // 4
    '    points:', // 5
    '      - { name: "k{index}", function: 3, registers: 5, type: int16 }', // 6: registers value col 53
    '      - { name: 7, function: 3, registers: "0..3", type: int16 }', // 7: name value col 17
    'source:', // 8
    '  modbus_tcp:', // 9
    '    devices:', // 10
    '      - name: a', // 11
    '        host: 10.0.0.5', // 12
    '        profile: em', // 13
    '        points: [ { name: "x{index}", function: 3, registers: 12, type: int16 } ]', // 14: col 63
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:6:53 profiles.em.points[0].registers WG_ERR_CONFIG_INVALID',
    'p.yaml:7:17 profiles.em.points[1].name WG_ERR_CONFIG_INVALID',
    'p.yaml:14:63 source.modbus_tcp.devices[0].points[0].registers WG_ERR_CONFIG_INVALID',
  ]);
  assert.equal(problems[0]!.message, 'must be a string (got 5)');
});

test('access: only coils and holding registers are written, each with its own functions', async () => {
  const problems = await problemsOf([
    ...ONE_DEVICE,
    '          - { name: di, function: 2, address: 0, type: bool, access: write }', // 9: access value col 70
    '          - { name: ir, function: 4, address: 0, type: uint16, access: read_write }', // 10: col 72
    '          - { name: c.ok5, function: 1, address: 0, type: bool, access: write, write_function: 5 }', // 11
    '          - { name: c.ok15, function: 1, address: 1, type: bool, access: read_write, write_function: 15 }', // 12
    '          - { name: c.bad, function: 1, address: 2, type: bool, access: write, write_function: 6 }', // 13: col 96
    '          - { name: h.ok6, function: 3, address: 0, type: uint16, access: write, write_function: 6 }', // 14
    '          - { name: h.ok16, function: 3, address: 1, type: int16, access: write, write_function: 16 }', // 15
    '          - { name: h.bad, function: 3, address: 2, type: uint16, access: write, write_function: 5 }', // 16: col 98
    '          - { name: h.wide, function: 3, address: 4, type: float32, access: write, write_function: 6 }', // 17: col 100
    '          - { name: h.ok32, function: 3, address: 6, type: float32, access: write, write_function: 16 }', // 18
    '          - { name: h.ro, function: 3, address: 8, type: uint16, access: read, write_function: 6 }', // 19: col 96
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:9:70 source.modbus_tcp.devices[0].points[0].access WG_ERR_CONFIG_CONFLICT',
    'p.yaml:10:72 source.modbus_tcp.devices[0].points[1].access WG_ERR_CONFIG_CONFLICT',
    'p.yaml:13:96 source.modbus_tcp.devices[0].points[4].write_function WG_ERR_CONFIG_CONFLICT',
    'p.yaml:16:98 source.modbus_tcp.devices[0].points[7].write_function WG_ERR_CONFIG_CONFLICT',
    'p.yaml:17:100 source.modbus_tcp.devices[0].points[8].write_function WG_ERR_CONFIG_CONFLICT',
    'p.yaml:19:96 source.modbus_tcp.devices[0].points[10].write_function WG_ERR_CONFIG_CONFLICT',
  ]);
  const messages = problems.map((p) => p.message);
  assert.match(messages[0]!, /^function 2 \(discrete inputs\) is read-only in Modbus.*see source\.modbus_tcp\.devices\[0\]\.points\[0\]\.function \(line 9\)$/);
  assert.match(messages[1]!, /^function 4 \(input registers\) is read-only in Modbus/);
  assert.match(messages[2]!, /^coils are written with function 5 or 15 \(got 6\)/);
  assert.match(messages[3]!, /^holding registers are written with function 6 or 16 \(got 5\)/);
  // Function 6 (write single register) writes one register; a float32 takes two.
  assert.match(messages[4]!, /^function 6 writes one register, and a float32 takes 2: use 16; see .*points\[8\]\.type \(line 17\)$/);
  assert.match(messages[5]!, /^write_function applies to points that may be written \(access is read\)/);
});

test('an access from point_defaults makes writable only the points that can be written', async () => {
  const pipeline = await resolved([
    'pipeline:',
    '  name: p1',
    'profiles:',
    '  meter:',
    '    point_defaults: { access: read_write }',
    '    points:',
    '      - { name: kwh, function: 4, address: 0, type: uint32 }',
    '      - { name: setpoint, function: 3, address: 0, type: uint16 }',
    'source:',
    '  modbus_tcp:',
    '    devices:',
    '      - name: plc1',
    '        host: 10.0.0.5',
    '        profile: meter',
    '        point_defaults: { access: write }',
    '        points:',
    '          - { name: di, function: 2, address: 0, type: bool }',
    '          - { name: coil, function: 1, address: 0, type: bool }',
    '          - { name: locked, function: 3, address: 9, type: uint16, access: read }',
    ...TAIL,
  ]);
  // Discrete inputs (2) and input registers (4) cannot be written in Modbus, whatever a default says;
  // a point's own access wins; otherwise the device's default, then the profile's.
  assert.deepEqual(pipeline.points.map((p) => [p.name, p.access]), [
    ['kwh', 'read'],
    ['setpoint', 'write'],
    ['di', 'read'],
    ['coil', 'write'],
    ['locked', 'read'],
  ]);
});
