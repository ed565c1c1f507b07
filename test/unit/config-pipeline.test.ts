/**
 * Problems in pipeline files: each expected position is counted from the lines written below (line N
 * is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { formatProblem, loadGatewayConfig, type ConfigProblem } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines, pipelineLines } from './config-workspace.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

async function problemsOf(ws: ConfigWorkspace, pipelines: Record<string, string[]>): Promise<ConfigProblem[]> {
  for (const [name, lines] of Object.entries(pipelines)) await ws.write(name, lines);
  const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(Object.keys(pipelines))));
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

/** Lines 1-8 of a pipeline with one device; points follow from line 9. */
const HEAD = [
  'pipeline:', // 1
  '  name: p1', // 2
  'source:', // 3
  '  modbus_tcp:', // 4
  '    devices:', // 5
  '      - name: plc1', // 6
  '        host: 127.0.0.1', // 7
  '        points:', // 8
];
const TAIL = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud'];

test('point combinations that mean nothing are reported, naming both settings', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, {
      'p.yaml': [
        ...HEAD,
        '          - { name: s1, function: 3, address: 0, type: string }', // 9: no length; point map at col 13
        '          - { name: c1, function: 1, address: 0, type: bool, bit: 3 }', // 10: bit on a coil, bit value col 67
        '          - { name: c2, function: 2, address: 0, type: int16 }', // 11: function 2 with int16, type value col 56
        '          - { name: r1, function: 3, address: 0, type: int32, length: 2 }', // 12: length value col 71
        '          - { name: r2, function: 4, address: 0, type: uint16, bit: 1 }', // 13: bit on uint16, value col 69
        '          - { name: r3, function: 3, address: 9, type: bool }', // 14: bool in a register, no bit
        '          - { name: r4, function: 3, address: 65534, type: float32 }', // 15: fits exactly (65534-65535)
        '          - { name: r5, function: 4, address: 65533, type: float64 }', // 16: 65533..65536, address value col 47
        '          - { name: s1, function: 3, address: 9, type: uint16 }', // 17: duplicate name, value col 21
        ...TAIL,
      ],
    });
    assert.deepEqual(where(problems), [
      'p.yaml:9:13 source.modbus_tcp.devices[0].points[0].length WG_ERR_CONFIG_INVALID',
      'p.yaml:10:67 source.modbus_tcp.devices[0].points[1].bit WG_ERR_CONFIG_CONFLICT',
      'p.yaml:11:56 source.modbus_tcp.devices[0].points[2].type WG_ERR_CONFIG_CONFLICT',
      'p.yaml:12:71 source.modbus_tcp.devices[0].points[3].length WG_ERR_CONFIG_CONFLICT',
      'p.yaml:13:69 source.modbus_tcp.devices[0].points[4].bit WG_ERR_CONFIG_CONFLICT',
      'p.yaml:14:13 source.modbus_tcp.devices[0].points[5].bit WG_ERR_CONFIG_INVALID',
      'p.yaml:16:47 source.modbus_tcp.devices[0].points[7].address WG_ERR_CONFIG_INVALID',
      'p.yaml:17:21 source.modbus_tcp.devices[0].points[8].name WG_ERR_CONFIG_DUPLICATE_NAME',
    ]);
    const messages = problems.map((p) => p.message);
    assert.equal(messages[0], 'type string needs length: the number of registers holding the text');
    assert.match(messages[1]!, /function 1 \(coils\).*see source\.modbus_tcp\.devices\[0\]\.points\[1\]\.function \(line 10\)/);
    assert.match(messages[2]!, /type must be bool \(got int16\).*points\[2\]\.function \(line 11\)/);
    assert.match(messages[3]!, /length applies to type string only \(type is int32\).*points\[3\]\.type \(line 12\)/);
    assert.match(messages[4]!, /bit applies to type bool only \(type is uint16\)/);
    assert.match(messages[6]!, /reads up to address 65536/);
    assert.equal(messages[7], 'point name "s1" is already used at source.modbus_tcp.devices[0].points[0] (line 9)');
  } finally {
    await ws.remove();
  }
});

test('rings must be powers of two within the ring\'s bounds; the topic may use only known placeholders; the uplink must exist', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, {
      'p.yaml': [
        'pipeline:', // 1
        '  name: p1', // 2
        '  ring: { ingress: 1000000, egress: 32B }', // 3: ingress value col 20, egress value col 37
        '  batch: { deadline: 0ms }', // 4: deadline value col 22
        ...HEAD.slice(2), // 5-10
        '          - { name: t, function: 3, address: 0, type: int16 }', // 11
        ...TAIL.slice(0, 4), // 12-15
        '  uplink: clod', // 16: col 11
        '  topic: "site/{gateway}/{dev}/{point}"', // 17: col 10
      ],
    });
    assert.deepEqual(where(problems), [
      'p.yaml:3:20 pipeline.ring.ingress WG_ERR_CONFIG_INVALID',
      'p.yaml:3:37 pipeline.ring.egress WG_ERR_CONFIG_INVALID',
      'p.yaml:4:22 pipeline.batch.deadline WG_ERR_CONFIG_INVALID',
      'p.yaml:16:11 publish.uplink WG_ERR_CONFIG_UNKNOWN_UPLINK',
      'p.yaml:17:10 publish.topic WG_ERR_CONFIG_UNKNOWN_PLACEHOLDER',
    ]);
    // Nearest powers of two by hand: 2^19 = 524288 < 1000000 < 2^20 = 1048576.
    assert.equal(problems[0]!.message, 'must be a power of two (got 1000000 bytes; nearest are 524288 and 1048576)');
    assert.equal(problems[1]!.message, 'must be from 64B to 1GiB (got 32 bytes)');
    assert.equal(
      formatProblem(problems[3]!),
      `${ws.path('p.yaml')}:16:11 publish.uplink: uplink "clod" is not defined in the gateway file [WG_ERR_CONFIG_UNKNOWN_UPLINK]`,
    );
    assert.equal(problems[4]!.message, 'topic placeholder "{dev}" is unknown; known: {gateway} {pipeline} {device} {point} {address} {function}');
  } finally {
    await ws.remove();
  }
});

test('a schema error in one setting does not hide the problems of the others', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, {
      'p.yaml': [
        ...HEAD.slice(0, 6), // 1-6
        '        host: 127.0.0.1', // 7
        '        port: 70000', // 8: col 15
        '        interval: 5 sec', // 9: col 19
        '        backoff: { min: 10s, max: 1s }', // 10: min value col 25
        '        points:', // 11
        '          - { name: a, function: 3, address: 0, type: int16 }', // 12
        '          - { name: a, function: 3, address: 1, type: int16, colour: red }', // 13: name value col 21, key col 62
        '      - name: plc1', // 14: duplicate device name, value col 15
        '        host: 127.0.0.2', // 15
        '        points: [ { name: b, function: 3, address: 0, type: string, length: 0 } ]', // 16: length value col 77
        ...TAIL,
      ],
    });
    assert.deepEqual(where(problems), [
      'p.yaml:8:15 source.modbus_tcp.devices[0].port WG_ERR_CONFIG_INVALID',
      'p.yaml:9:19 source.modbus_tcp.devices[0].interval WG_ERR_CONFIG_INVALID',
      'p.yaml:10:25 source.modbus_tcp.devices[0].backoff.min WG_ERR_CONFIG_CONFLICT',
      'p.yaml:13:21 source.modbus_tcp.devices[0].points[1].name WG_ERR_CONFIG_DUPLICATE_NAME',
      'p.yaml:13:62 source.modbus_tcp.devices[0].points[1].colour WG_ERR_CONFIG_INVALID',
      'p.yaml:14:15 source.modbus_tcp.devices[1].name WG_ERR_CONFIG_DUPLICATE_NAME',
      'p.yaml:16:77 source.modbus_tcp.devices[1].points[0].length WG_ERR_CONFIG_INVALID',
    ]);
    assert.equal(problems[1]!.message, 'must be a duration such as 250ms, 1.5s, 2m, 1h, or a number of milliseconds (got "5 sec")');
    assert.equal(problems[5]!.message, 'device name "plc1" is already used at source.modbus_tcp.devices[0] (line 6)');
  } finally {
    await ws.remove();
  }
});

test('pipeline names are unique across the gateway; the same file listed twice is refused', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('a.yaml', pipelineLines('boiler-room'));
    await ws.write('b.yaml', pipelineLines('boiler-room'));
    // gatewayLines lists pipelines from line 10.
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['a.yaml', 'b.yaml', './a.yaml'])));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(where(result.problems), [
      'gw.yaml:12:5 pipelines[2] WG_ERR_CONFIG_INVALID',
      'b.yaml:2:9 pipeline.name WG_ERR_CONFIG_DUPLICATE_NAME',
    ]);
    assert.equal(result.problems[0]!.message, 'lists the same file as pipelines[0]');
    assert.equal(result.problems[1]!.message, `pipeline name "boiler-room" is already used at ${ws.path('a.yaml')}:2:9`);
  } finally {
    await ws.remove();
  }
});
