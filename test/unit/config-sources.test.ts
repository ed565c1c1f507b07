/**
 * Source kinds through the loader: modbus_tcp and modbus_rtu_over_tcp in one pipeline, the links they
 * resolve to (shared TCP connections, buses), the names and unit ids that must be unique, and topics
 * that would mix two devices' readings. Expected values come from the Modbus specifications (frame
 * sizes), from docs/config.md (defaults), or are counted from the lines written below (line N is
 * element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, renderTopic, type ConfigProblem, type ResolvedPipeline } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';
import { modbusPoints } from '../support/modbus-points.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

async function problemsOf(lines: string[]): Promise<ConfigProblem[]> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
    assert.equal(result.ok, false, 'expected problems');
    return result.ok ? [] : result.problems;
  } finally {
    await ws.remove();
  }
}

async function resolved(lines: string[]): Promise<ResolvedPipeline> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
    if (!result.ok) assert.fail(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
    return result.config.pipelines[0]!;
  } finally {
    await ws.remove();
  }
}

const STEPS = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder'];
/** Steps and a topic that keeps devices apart. */
const TAIL = [...STEPS, 'publish:', '  uplink: cloud', '  topic: "site/{device}/{point}"'];

test('a pipeline mixing modbus_tcp and modbus_rtu_over_tcp resolves to links and devices in file order', async () => {
  const pipeline = await resolved([
    'pipeline:', // 1
    '  name: mixed', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - name: plc1', // 6
    '        host: 10.0.0.5', // 7
    '        points: [ { name: temp, function: 3, address: 0, type: int16 } ]', // 8
    '  modbus_rtu_over_tcp:', // 9
    '    buses:', // 10
    '      - name: hall', // 11
    '        host: 10.0.0.9', // 12
    '        port: 4001', // 13
    '        devices:', // 14
    '          - name: m1', // 15
    '            unit_id: 7', // 16
    '            points: [ { name: volts, function: 4, address: 2, type: float32 } ]', // 17
    '          - name: m2', // 18
    '            unit_id: 8', // 19
    '            turnaround: 5ms', // 20
    '            quarantine_after: 5', // 21
    '            points: [ { name: amps, function: 4, address: 6, type: uint16 } ]', // 22
    '      - name: yard', // 23
    '        host: 10.0.0.10', // 24
    '        port: 4002', // 25
    '        silence: 4ms', // 26
    '        backoff: { min: 1s, max: 1m }', // 27
    '        devices:', // 28
    '          # The same unit id as m1, on another bus: a bus is its own address space.', // 29
    '          - { name: m3, unit_id: 7, points: [ { name: kwh, function: 3, address: 100, type: uint32 } ] }', // 30
    ...TAIL,
  ]);
  const source = pipeline.source;
  assert.deepEqual(source.kinds, ['modbus_tcp', 'modbus_rtu_over_tcp']);
  const backoff = { minMs: 500, maxMs: 30_000 };
  assert.deepEqual(source.links, [
    {
      index: 0, at: ['source', 'modbus_tcp', 'devices', 0], name: 'plc1', kind: 'modbus_tcp', framing: 'tcp', transport: 'tcp', host: '10.0.0.5', port: 502, inFlight: 1,
      // Modbus TCP has no silence; its largest frame is MBAP 7 + PDU 253 (Modbus Messaging on TCP/IP V1.0b, 4.1).
      silenceMs: 0, maxFrameBytes: 260, connectTimeoutMs: 1_000, backoff, devices: [0],
    },
    {
      index: 1, at: ['source', 'modbus_rtu_over_tcp', 'buses', 0], name: 'hall', kind: 'modbus_rtu_over_tcp', framing: 'rtu', transport: 'tcp', host: '10.0.0.9', port: 4001, inFlight: 1,
      // The device server keeps the serial timing: no silence unless asked. Address 1 + PDU 253 + CRC 2
      // (Modbus over Serial Line V1.02, 2.5.1.1).
      silenceMs: 0, maxFrameBytes: 256, connectTimeoutMs: 5_000, backoff, devices: [1, 2],
    },
    {
      index: 2, at: ['source', 'modbus_rtu_over_tcp', 'buses', 1], name: 'yard', kind: 'modbus_rtu_over_tcp', framing: 'rtu', transport: 'tcp', host: '10.0.0.10', port: 4002, inFlight: 1,
      silenceMs: 4, maxFrameBytes: 256, connectTimeoutMs: 5_000, backoff: { minMs: 1_000, maxMs: 60_000 }, devices: [3],
    },
  ]);
  const summary = source.devices.map((d) => ({
    index: d.index, name: d.name, kind: d.kind, link: d.link, framing: d.framing, address: d.address, unitId: d.unitId,
    turnaroundMs: d.turnaroundMs, quarantineAfter: d.quarantineAfter, points: d.points.map((p) => p.id),
  }));
  assert.deepEqual(summary, [
    { index: 0, name: 'plc1', kind: 'modbus_tcp', link: 0, framing: 'tcp', address: '10.0.0.5:502', unitId: 1, turnaroundMs: 0, quarantineAfter: 3, points: [0] },
    { index: 1, name: 'm1', kind: 'modbus_rtu_over_tcp', link: 1, framing: 'rtu', address: '10.0.0.9:4001 unit 7', unitId: 7, turnaroundMs: 0, quarantineAfter: 3, points: [1] },
    { index: 2, name: 'm2', kind: 'modbus_rtu_over_tcp', link: 1, framing: 'rtu', address: '10.0.0.9:4001 unit 8', unitId: 8, turnaroundMs: 5, quarantineAfter: 5, points: [2] },
    { index: 3, name: 'm3', kind: 'modbus_rtu_over_tcp', link: 2, framing: 'rtu', address: '10.0.0.10:4002 unit 7', unitId: 7, turnaroundMs: 0, quarantineAfter: 3, points: [3] },
  ]);
  // Registers per value: int16 and uint16 one, float32 and uint32 two.
  assert.deepEqual(modbusPoints(pipeline.points).map((p) => [p.id, p.name, p.device, p.function, p.address, p.registers]), [
    [0, 'temp', 0, 3, 0, 1],
    [1, 'volts', 1, 4, 2, 2],
    [2, 'amps', 2, 4, 6, 1],
    [3, 'kwh', 3, 3, 100, 2],
  ]);
  assert.ok(Object.isFrozen(source.links[1]!.devices), 'the resolved source is frozen');
});

// Regression: kinds were resolved in the registry's order, so a file that lists modbus_rtu_over_tcp
// first had its devices numbered after the modbus_tcp ones, and a device name used in both kinds was
// reported at the first one in the file, pointing at a later line as the earlier use.
test('source kinds are taken in the order written: device numbers, and which duplicate is reported', async () => {
  const rtuFirst = [
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_rtu_over_tcp:', // 4
    '    buses:', // 5
    '      - { name: hall, host: 10.0.0.9, port: 4001, devices: [ { name: m1, unit_id: 3, points: [ { name: a, function: 3, address: 0, type: int16 } ] } ] }', // 6
    '  modbus_tcp:', // 7
    '    devices:', // 8
    '      - { name: plc1, host: 10.0.0.5, points: [ { name: a, function: 3, address: 0, type: int16 } ] }', // 9
    ...TAIL,
  ];
  const pipeline = await resolved(rtuFirst);
  assert.deepEqual(pipeline.source.kinds, ['modbus_rtu_over_tcp', 'modbus_tcp']);
  assert.deepEqual(pipeline.source.links.map((l) => [l.index, l.name, l.devices]), [[0, 'hall', [0]], [1, 'plc1', [1]]]);
  assert.deepEqual(pipeline.source.devices.map((d) => [d.index, d.name, d.link]), [[0, 'm1', 0], [1, 'plc1', 1]]);
  assert.deepEqual(pipeline.points.map((p) => [p.id, p.device]), [[0, 0], [1, 1]]);

  const clash = [...rtuFirst];
  clash[8] = '      - { name: m1, host: 10.0.0.5, points: [ { name: a, function: 3, address: 0, type: int16 } ] }'; // 9: name value col 17
  const problems = await problemsOf(clash);
  assert.deepEqual(where(problems), ['p.yaml:9:17 source.modbus_tcp.devices[0].name WG_ERR_CONFIG_DUPLICATE_NAME']);
  assert.equal(problems[0]!.message, 'device name "m1" is already used at source.modbus_rtu_over_tcp.buses[0].devices[0] (line 6)');
});

test('modbus_tcp devices naming one connection share one link; devices without one have their own', async () => {
  const pipeline = await resolved([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - name: a', // 6
    '        host: 10.0.0.5', // 7
    '        connection: gw', // 8
    '        in_flight: 2', // 9
    '        timeout: 300ms', // 10
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 11
    '      - name: b', // 12
    '        host: 10.0.0.5', // 13
    '        connection: gw', // 14
    '        unit_id: 2', // 15
    '        in_flight: 2', // 16
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 17
    '      - name: c', // 18
    '        host: 10.0.0.5', // 19
    '        unit_id: 3', // 20
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 21
    ...TAIL,
  ]);
  const links = pipeline.source.links.map((l) => ({ index: l.index, name: l.name, inFlight: l.inFlight, devices: l.devices, connectTimeoutMs: l.connectTimeoutMs }));
  // The shared connection opens with the first device's timeout; c, on the same host but naming no
  // connection, gets a connection of its own, named after it.
  assert.deepEqual(links, [
    { index: 0, name: 'gw', inFlight: 2, devices: [0, 1], connectTimeoutMs: 300 },
    { index: 1, name: 'c', inFlight: 1, devices: [2], connectTimeoutMs: 1_000 },
  ]);
  assert.deepEqual(pipeline.source.devices.map((d) => [d.name, d.link, d.unitId, d.address]), [
    ['a', 0, 1, '10.0.0.5:502'],
    ['b', 0, 2, '10.0.0.5:502'],
    ['c', 1, 3, '10.0.0.5:502'],
  ]);
});

test('devices sharing a connection must agree on host, port and in_flight', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - name: a', // 6
    '        host: 10.0.0.5', // 7
    '        connection: gw', // 8
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 9
    '      - name: b', // 10
    '        host: 10.0.0.6', // 11: value col 15
    '        port: 503', // 12: value col 15
    '        in_flight: 4', // 13: value col 20
    '        connection: gw', // 14
    '        unit_id: 2', // 15
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 16
    '      - name: c', // 17: same host, port and in_flight as a: no conflict
    '        host: 10.0.0.5', // 18
    '        connection: gw', // 19
    '        unit_id: 3', // 20
    '        points: [ { name: kw, function: 3, address: 0, type: int16 } ]', // 21
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:11:15 source.modbus_tcp.devices[1].host WG_ERR_CONFIG_CONFLICT',
    'p.yaml:12:15 source.modbus_tcp.devices[1].port WG_ERR_CONFIG_CONFLICT',
    'p.yaml:13:20 source.modbus_tcp.devices[1].in_flight WG_ERR_CONFIG_CONFLICT',
  ]);
  assert.equal(problems[0]!.message, 'devices on connection gw share one TCP connection, so their host must agree (10.0.0.6 here, 10.0.0.5 there); see source.modbus_tcp.devices[0].host (line 7)');
  // a's port and in_flight are its defaults (502, 1): not written, so no line to point at.
  assert.equal(problems[1]!.message, 'devices on connection gw share one TCP connection, so their port must agree (503 here, 502 there); see source.modbus_tcp.devices[0].port');
  assert.equal(problems[2]!.message, 'devices on connection gw share one TCP connection, so their in_flight must agree (4 here, 1 there); see source.modbus_tcp.devices[0].in_flight');
});

test('devices sharing a connection have different unit ids', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - { name: a, host: 10.0.0.5, connection: gw, points: [ { name: kw, function: 3, address: 0, type: int16 } ] }', // 6: unit id 1 by default
    '      - { name: b, host: 10.0.0.5, connection: gw, unit_id: 1, points: [ { name: kw, function: 3, address: 0, type: int16 } ] }', // 7: unit_id value col 61
    '      - { name: c, host: 10.0.0.5, unit_id: 1, points: [ { name: kw, function: 3, address: 0, type: int16 } ] }', // 8: a connection of its own: fine
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), ['p.yaml:7:61 source.modbus_tcp.devices[1].unit_id WG_ERR_CONFIG_INVALID']);
  assert.match(problems[0]!.message, /^unit id 1 is already used on connection gw by source\.modbus_tcp\.devices\[0\]/);
});

test('two buses on one serial port are refused, naming both', async () => {
  const point = 'points: [ { name: a, function: 3, address: 0, type: int16 } ]';
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_rtu:', // 4
    '    buses:', // 5
    '      - name: hall', // 6
    '        port: /dev/ttyUSB0', // 7
    `        devices: [ { name: m1, unit_id: 1, ${point} } ]`, // 8
    '      - name: yard', // 9
    '        port: /dev/ttyUSB0', // 10: value col 15
    `        devices: [ { name: m2, unit_id: 2, ${point} } ]`, // 11
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), ['p.yaml:10:15 source.modbus_rtu.buses[1].port WG_ERR_CONFIG_CONFLICT']);
  assert.equal(problems[0]!.message, "port /dev/ttyUSB0 is bus hall's already: put the devices of one port on one bus; see source.modbus_rtu.buses[0].port (line 7)");
});

test('on a bus: unit ids 1-247, given and unique; bus names unique; device names unique across buses and kinds', async () => {
  const point = 'points: [ { name: a, function: 3, address: 0, type: int16 } ]';
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    `      - { name: m9, host: 10.0.0.5, ${point} }`, // 6
    '  modbus_rtu_over_tcp:', // 7
    '    buses:', // 8
    '      - name: hall', // 9
    '        host: 10.0.0.9', // 10
    '        port: 4001', // 11
    '        devices:', // 12
    `          - { name: m1, unit_id: 7, ${point} }`, // 13
    `          - { name: m2, unit_id: 7, ${point} }`, // 14: unit_id value col 34
    `          - { name: m3, unit_id: 0, ${point} }`, // 15: 0 is the broadcast address; col 34
    `          - { name: m4, unit_id: 248, ${point} }`, // 16: 248-255 are reserved; col 34
    `          - { name: m5, ${point} }`, // 17: no unit_id; the device map at col 13
    '      - name: hall', // 18: value col 15
    '        host: 10.0.0.10', // 19
    '        port: 4001', // 20
    '        devices:', // 21
    `          - { name: m6, unit_id: 7, ${point} }`, // 22: unit id 7 again, on another bus: fine
    `          - { name: m1, unit_id: 8, ${point} }`, // 23: m1 is on bus hall already; name value col 21
    `          - { name: m9, unit_id: 9, ${point} }`, // 24: m9 is a modbus_tcp device; col 21
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), [
    'p.yaml:14:34 source.modbus_rtu_over_tcp.buses[0].devices[1].unit_id WG_ERR_CONFIG_INVALID',
    'p.yaml:15:34 source.modbus_rtu_over_tcp.buses[0].devices[2].unit_id WG_ERR_CONFIG_INVALID',
    'p.yaml:16:34 source.modbus_rtu_over_tcp.buses[0].devices[3].unit_id WG_ERR_CONFIG_INVALID',
    'p.yaml:17:13 source.modbus_rtu_over_tcp.buses[0].devices[4].unit_id WG_ERR_CONFIG_INVALID',
    'p.yaml:18:15 source.modbus_rtu_over_tcp.buses[1].name WG_ERR_CONFIG_DUPLICATE_NAME',
    'p.yaml:23:21 source.modbus_rtu_over_tcp.buses[1].devices[1].name WG_ERR_CONFIG_DUPLICATE_NAME',
    'p.yaml:24:21 source.modbus_rtu_over_tcp.buses[1].devices[2].name WG_ERR_CONFIG_DUPLICATE_NAME',
  ]);
  const messages = problems.map((p) => p.message);
  assert.match(messages[0]!, /^unit id 7 is already used on bus hall by source\.modbus_rtu_over_tcp\.buses\[0\]\.devices\[0\] \(line 13\)/);
  assert.match(messages[1]!, /must be >= 1 \(got 0\)/);
  assert.match(messages[2]!, /must be <= 247 \(got 248\)/);
  assert.equal(messages[3], 'required setting is missing');
  assert.equal(messages[4], 'bus name "hall" is already used at source.modbus_rtu_over_tcp.buses[0] (line 9)');
  assert.equal(messages[5], 'device name "m1" is already used at source.modbus_rtu_over_tcp.buses[0].devices[0] (line 13)');
  assert.equal(messages[6], 'device name "m9" is already used at source.modbus_tcp.devices[0] (line 6)');
});

/** Two meters of one profile: both have a point `kwh`. */
function twoMeters(topic: string | undefined): string[] {
  return [
    'pipeline:', // 1
    '  name: p1', // 2
    'profiles:', // 3
    '  meter:', // 4
    '    points:', // 5
    '      - { name: kwh, function: 4, address: 52, type: int32, order: CDAB }', // 6
    'source:', // 7
    '  modbus_rtu_over_tcp:', // 8
    '    buses:', // 9
    '      - name: hall', // 10
    '        host: 10.0.0.9', // 11
    '        port: 4001', // 12
    '        devices:', // 13
    '          - { name: m1, unit_id: 1, profile: meter }', // 14
    '          - { name: m2, unit_id: 2, profile: meter }', // 15
    ...STEPS, // 16-18
    'publish:', // 19
    '  uplink: cloud', // 20
    ...(topic === undefined ? [] : [`  topic: "${topic}"`]), // 21: value col 10
  ];
}

test('a topic without {device} is refused when two devices have a point of the same name', async () => {
  const written = await problemsOf(twoMeters('plant/{pipeline}/{point}'));
  assert.deepEqual(where(written), ['p.yaml:21:10 publish.topic WG_ERR_CONFIG_INVALID']);
  assert.equal(
    written[0]!.message,
    'devices m1 and m2 both have a point kwh, and this topic has no {device}: their readings would share one topic. Add {device}, e.g. wasmgate/{gateway}/{pipeline}/{device}/{point}',
  );
  // The default topic has no {device} either; it is not written, so the problem is at the
  // publish map, which starts at its first setting (line 20, col 3).
  const defaulted = await problemsOf(twoMeters(undefined));
  assert.deepEqual(where(defaulted), ['p.yaml:20:3 publish.topic WG_ERR_CONFIG_INVALID']);

  const pipeline = await resolved(twoMeters('plant/{pipeline}/{device}/{point}'));
  assert.deepEqual(pipeline.points.map((p) => [p.name, p.device]), [['kwh', 0], ['kwh', 1]]);
});

test('{address} and {function} render from each point, {device} from its device', async () => {
  const lines = twoMeters('plant/{gateway}/{device}/{function}/{address}/{point}');
  lines.splice(6, 0, '      - { name: "r{address}", function: 3, registers: "10..11", type: uint16 }'); // profile points: kwh, r10, r11
  const pipeline = await resolved(lines);
  const topics = modbusPoints(pipeline.points).map((p) =>
    renderTopic(pipeline.publish.topic, {
      gateway: 'gw1', pipeline: pipeline.name, device: pipeline.source.devices[p.device]!.name, point: p.name,
      address: String(p.address), function: String(p.function),
    }),
  );
  assert.deepEqual(topics, [
    'plant/gw1/m1/4/52/kwh', 'plant/gw1/m1/3/10/r10', 'plant/gw1/m1/3/11/r11',
    'plant/gw1/m2/4/52/kwh', 'plant/gw1/m2/3/10/r10', 'plant/gw1/m2/3/11/r11',
  ]);
});

test('two links may not share a name; two buses to one device server port are hinted at', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_tcp:', // 4
    '    devices:', // 5
    '      - { name: gw, host: 10.0.0.5, points: [ { name: a, function: 3, address: 0, type: int16 } ] }', // 6
    '      - { name: m2, host: 10.0.0.6, connection: gw, points: [ { name: a, function: 3, address: 0, type: int16 } ] }', // 7: name col 17
    ...TAIL,
  ]);
  assert.deepEqual(where(problems), ['p.yaml:7:17 source.modbus_tcp.devices[1].name WG_ERR_CONFIG_INVALID']);
  assert.match(problems[0]!.message, /on a link named gw, and source\.modbus_tcp\.devices\[0\] .*is on another link of that name/);

  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [
      'pipeline:',
      '  name: p1',
      'source:',
      '  modbus_rtu_over_tcp:',
      '    buses:',
      '      - { name: b1, host: 10.0.0.9, port: 4001, devices: [ { name: m1, unit_id: 1, points: [ { name: a, function: 3, address: 0, type: int16 } ] } ] }',
      '      - { name: b2, host: 10.0.0.9, port: 4001, devices: [ { name: m2, unit_id: 2, points: [ { name: a, function: 3, address: 0, type: int16 } ] } ] }',
      ...TAIL,
    ]);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
    assert.ok(result.ok, 'a hint refuses nothing');
    const hints = result.hints.filter((h) => /two links to one line/.test(h.message));
    assert.equal(hints.length, 1);
    assert.equal(hints[0]!.path, 'source.modbus_rtu_over_tcp.buses[1].devices[0].name');
  } finally {
    await ws.remove();
  }
});

test('turnaround and silence hold the whole link quiet: at most 10s', async () => {
  const problems = await problemsOf([
    'pipeline:', // 1
    '  name: p1', // 2
    'source:', // 3
    '  modbus_rtu_over_tcp:', // 4
    '    buses:', // 5
    '      - name: b1', // 6
    '        host: 10.0.0.9', // 7
    '        port: 4001', // 8
    '        silence: 11s', // 9: value col 18
    '        devices:', // 10
    '          - { name: m1, unit_id: 1, turnaround: 1h, points: [ { name: a, function: 3, address: 0, type: int16 } ] }', // 11
    '          - { name: m2, unit_id: 2, turnaround: 10s, points: [ { name: a, function: 3, address: 0, type: int16 } ] }', // 12: the most
    ...TAIL,
  ]);
  const paths = problems.map((p) => p.path);
  assert.ok(paths.includes('source.modbus_rtu_over_tcp.buses[0].silence'), JSON.stringify(problems));
  assert.ok(paths.includes('source.modbus_rtu_over_tcp.buses[0].devices[0].turnaround'), JSON.stringify(problems));
  assert.ok(!paths.includes('source.modbus_rtu_over_tcp.buses[0].devices[1].turnaround'), '10s is allowed');
  const silence = problems.find((p) => p.path === 'source.modbus_rtu_over_tcp.buses[0].silence')!;
  assert.equal(silence.line, 9);
  assert.match(silence.message, /at most 10s \(got 11000ms\)/);
});
