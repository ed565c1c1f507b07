/**
 * Source kind bacnet_ip through the loader: its defaults as docs/config.md gives them, names turned into
 * BACnet's numbers (ASHRAE 135, clause 21: analog-input 0, binary-input 3, multi-state-value 19;
 * present-value 85, status-flags 111), BACnet engineering unit names into si's spellings, and what it
 * refuses, at its position (line N is element N-1 of the array).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem, type ResolvedPipeline } from '../../src/host/config/index.js';
import type { ResolvedBacnetPoint } from '../../src/host/config/resolved.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';
import { pipelineContext } from '../../src/host/pipeline/settings-document.js';

async function load(lines: string[]) {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', lines);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines()));
  } finally {
    await ws.remove();
  }
}

async function resolved(lines: string[]): Promise<ResolvedPipeline> {
  const result = await load(lines);
  if (!result.ok) assert.fail(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  return result.config.pipelines[0]!;
}

async function problems(lines: string[]): Promise<ConfigProblem[]> {
  const result = await load(lines);
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

const TAIL = ['steps:', '  - plugin: fixture-decoder', '  - plugin: fixture-encoder', 'publish:', '  uplink: cloud', '  topic: "bms/{device}/{point}"'];

test('a bacnet_ip device resolves to a UDP link of its own with the documented defaults, names as numbers, units as si spells them', async () => {
  const pipeline = await resolved([
    'pipeline: { name: hvac }', // 1
    'source:', // 2
    '  bacnet_ip:', // 3
    '    devices:', // 4
    '      - name: ahu-3', // 5
    '        host: 10.0.20.31', // 6
    '        device_instance: 1201', // 7
    '        points:', // 8
    '          - { name: supply.temp, object_type: analog-input, instance: 1, unit: degrees-fahrenheit }', // 9
    '          - { name: supply.flags, object_type: analog-input, instance: 1, property: status-flags }', // 10
    '          - { name: fan, object_type: binary-input, instance: 3, unit: degC }', // 11
    '          - { name: mode, object_type: 19, instance: 4, property: 85 }', // 12
    ...TAIL,
  ]);
  const link = pipeline.source.links[0]!;
  assert.equal(link.transport, 'udp');
  assert.deepEqual([link.kind, link.name, link.host, link.port, link.bindPort, link.inFlight, link.connectTimeoutMs], ['bacnet_ip', 'ahu-3', '10.0.20.31', 47808, 0, 1, 3000]);
  const device = pipeline.source.devices[0]!;
  assert.deepEqual([device.intervalMs, device.timeoutMs, device.retries, device.bacnet], [5000, 3000, 3, { deviceInstance: 1201, readMultiple: true, cov: null }]);
  const points = pipeline.points as ResolvedBacnetPoint[];
  assert.deepEqual(points.map((p) => [p.protocol, p.name, p.objectType, p.instance, p.property, p.unit]), [
    ['bacnet', 'supply.temp', 0, 1, 85, 'degF'],
    ['bacnet', 'supply.flags', 0, 1, 111, ''],
    ['bacnet', 'fan', 3, 3, 85, 'degC'],
    ['bacnet', 'mode', 19, 4, 85, ''],
  ]);
  // What the decoder is handed (docs/plugin-abi.md, wg_configure): numbers, and the device's identity.
  const context = pipelineContext(pipeline);
  assert.deepEqual(context.devices[0], {
    index: 0, name: 'ahu-3', kind: 'bacnet_ip', link: 'ahu-3', framing: 'bacnet_ip', host: '10.0.20.31', port: 47808, unit_id: 0,
    interval_ms: 5000, timeout_ms: 3000, device_instance: 1201, read_multiple: true,
  });
  assert.deepEqual(context.points[0], {
    id: 0, name: 'supply.temp', device: 0, object_type: 0, instance: 1, property: 85, object_type_name: 'analog-input', property_name: 'present-value', unit: 'degF', description: '', access: 'read',
  });
});

test('bacnet_ip refuses a device instance or an address used twice, and an object type it does not know, each at its setting', async () => {
  const found = await problems([
    'pipeline: { name: hvac }', // 1
    'source:', // 2
    '  bacnet_ip:', // 3
    '    devices:', // 4
    '      - { name: a, host: 10.0.0.1, device_instance: 7, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 5
    '      - { name: b, host: 10.0.0.2, device_instance: 7, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 6
    '      - { name: c, host: 10.0.0.1, device_instance: 8, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 7
    ...TAIL,
  ]);
  assert.deepEqual(found.map((p) => `${basename(p.file)}:${p.line} ${p.path}`), ['p.yaml:6 source.bacnet_ip.devices[1].device_instance', 'p.yaml:7 source.bacnet_ip.devices[2].host']);
  assert.match(found[0]!.message, /device instance 7 is already .*a.*unique on a BACnet internetwork/);
  assert.match(found[1]!.message, /10\.0\.0\.1:47808 is already .*devices behind a BACnet router are not supported yet/);

  const typo = await problems([
    'pipeline: { name: hvac }',
    'source:',
    '  bacnet_ip:',
    '    devices:',
    '      - { name: a, host: 10.0.0.1, device_instance: 7, points: [ { name: t, object_type: analog-inptu, instance: 1 } ] }', // 5
    ...TAIL,
  ]);
  assert.equal(typo.length, 1);
  assert.equal(typo[0]!.line, 5);
  assert.match(typo[0]!.path, /source\.bacnet_ip\.devices\[0\]\.points\[0\]\.object_type/);
  assert.match(typo[0]!.message, /unknown object type "analog-inptu": one of analog-input, .*multi-state-value, or a BACnetObjectType number/);
});

test('a writable bacnet_ip point carries its access and write priority to the decoder; read-only is the default', async () => {
  const pipeline = await resolved([
    'pipeline: { name: hvac }',
    'source:',
    '  bacnet_ip:',
    '    devices:',
    '      - name: ahu-3',
    '        host: 10.0.20.31',
    '        device_instance: 1201',
    '        points:',
    '          - { name: sp, object_type: analog-value, instance: 2, access: read_write, write_priority: 10 }',
    '          - { name: fan.cmd, object_type: binary-output, instance: 3, access: write }',
    '          - { name: temp, object_type: analog-input, instance: 1 }',
    ...TAIL,
  ]);
  const points = pipeline.points as ResolvedBacnetPoint[];
  assert.deepEqual(points.map((p) => [p.name, p.access, p.writePriority]), [['sp', 'read_write', 10], ['fan.cmd', 'write', null], ['temp', 'read', null]]);
  const context = pipelineContext(pipeline);
  assert.equal(context.points[0]!.write_priority, 10);
  assert.equal('write_priority' in context.points[1]!, false, 'no priority given: none in the document, none sent');
});

test('bacnet_ip refuses at load, at file:line:col, a writable input object, another property, an object type not written, priority 6, and a priority on a read-only point', async () => {
  const found = await problems([
    'pipeline: { name: hvac }', // 1
    'source:', // 2
    '  bacnet_ip:', // 3
    '    devices:', // 4
    '      - name: ahu-3', // 5
    '        host: 10.0.20.31', // 6
    '        device_instance: 1201', // 7
    '        points:', // 8
    '          - { name: t, object_type: analog-input, instance: 1, access: write }', // 9
    '          - { name: u, object_type: analog-output, instance: 1, property: units, access: write }', // 10
    '          - { name: d, object_type: device, instance: 1201, access: read_write }', // 11
    '          - { name: b, object_type: binary-output, instance: 2, access: write, write_priority: 6 }', // 12
    '          - { name: r, object_type: analog-value, instance: 3, write_priority: 8 }', // 13
    ...TAIL,
  ]);
  // Columns: the value of `access:` on line 9 starts after "          - { name: t, object_type: analog-input, instance: 1, access: ".
  const column9 = '          - { name: t, object_type: analog-input, instance: 1, access: '.length + 1;
  assert.deepEqual(found.map((p) => `${basename(p.file)}:${p.line} ${p.path}`), [
    'p.yaml:9 source.bacnet_ip.devices[0].points[0].access',
    'p.yaml:10 source.bacnet_ip.devices[0].points[1].access',
    'p.yaml:11 source.bacnet_ip.devices[0].points[2].access',
    'p.yaml:12 source.bacnet_ip.devices[0].points[3].write_priority',
    'p.yaml:13 source.bacnet_ip.devices[0].points[4].write_priority',
  ]);
  assert.equal(found[0]!.column, column9);
  assert.match(found[0]!.message, /analog-input is an input object: its present-value is what the device measures/);
  assert.match(found[1]!.message, /property units is not written here: only present-value/);
  assert.match(found[2]!.message, /object type device is not written here/);
  assert.match(found[3]!.message, /priority 6 is reserved for the minimum on\/off algorithm/);
  assert.match(found[4]!.message, /read-only \(access: read\): a write priority needs access: write or read_write/);
});

test('bacnet_ip cov: lifetime in whole seconds, confirmed and process id defaulted, refresh optional; the decoder gets them flat', async () => {
  const pipeline = await resolved([
    'pipeline: { name: hvac }',
    'source:',
    '  bacnet_ip:',
    '    devices:',
    '      - { name: a, host: 10.0.0.1, device_instance: 7, cov: { lifetime: 10m }, points: [ { name: t, object_type: analog-input, instance: 1 } ] }',
    '      - { name: b, host: 10.0.0.2, device_instance: 8, cov: { lifetime: 300s, confirmed: true, refresh: 15m, process_id: 70000 }, points: [ { name: t, object_type: analog-input, instance: 1 } ] }',
    '      - { name: c, host: 10.0.0.3, device_instance: 9, points: [ { name: t, object_type: analog-input, instance: 1 } ] }',
    ...TAIL,
  ]);
  const [a, b, c] = pipeline.source.devices;
  assert.deepEqual(a!.bacnet!.cov, { lifetimeS: 600, confirmed: false, refreshMs: null, processId: 1 });
  assert.deepEqual(b!.bacnet!.cov, { lifetimeS: 300, confirmed: true, refreshMs: 900_000, processId: 70000 });
  assert.equal(c!.bacnet!.cov, null);
  const devices = pipelineContext(pipeline).devices as Array<Record<string, unknown>>;
  assert.deepEqual([devices[1]!.cov_lifetime_s, devices[1]!.cov_confirmed, devices[1]!.cov_process_id], [300, true, 70000]);
  assert.equal('cov_lifetime_s' in devices[2]!, false);
});

test('bacnet_ip cov refuses a lifetime in parts of a second, and one whose half leaves no room for the renewal\'s retries', async () => {
  const found = await problems([
    'pipeline: { name: hvac }', // 1
    'source:', // 2
    '  bacnet_ip:', // 3
    '    devices:', // 4
    '      - { name: a, host: 10.0.0.1, device_instance: 7, cov: { lifetime: 1500ms }, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 5
    // timeout 3s x (retries 3 + 1) = 12 s; half of 20 s is 10 s.
    '      - { name: b, host: 10.0.0.2, device_instance: 8, cov: { lifetime: 20s }, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 6
    '      - { name: c, host: 10.0.0.3, device_instance: 9, cov: { confirmed: true }, points: [ { name: t, object_type: analog-input, instance: 1 } ] }', // 7
    ...TAIL,
  ]);
  assert.deepEqual(found.map((p) => `${basename(p.file)}:${p.line} ${p.path}`), [
    'p.yaml:5 source.bacnet_ip.devices[0].cov.lifetime',
    'p.yaml:6 source.bacnet_ip.devices[1].cov.lifetime',
    'p.yaml:7 source.bacnet_ip.devices[2].cov.lifetime',
  ]);
  assert.match(found[0]!.message, /whole seconds/);
  assert.match(found[1]!.message, /half the lifetime \(10000 ms.*timeout x \(retries \+ 1\) = 12000 ms/);
  assert.match(found[2]!.message, /required setting is missing/);
});
