/**
 * Buses of two pipelines on one line share its arbiter at run (shared-links.ts), so the loader holds
 * them to one way of driving the line and to unit ids of their own. Positions are counted from the
 * lines written below (line N is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { symlink } from 'node:fs/promises';
import { loadGatewayConfig, type LoadResult } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines } from './config-workspace.js';

function rtuPipeline(name: string, bus: string, port: string, baud: number, unit: number): string[] {
  return [
    'pipeline:', // 1
    `  name: ${name}`, // 2
    'source:', // 3
    '  modbus_rtu:', // 4
    '    buses:', // 5
    `      - name: ${bus}`, // 6
    `        port: ${port}`, // 7
    `        baud: ${baud}`, // 8
    '        devices:', // 9
    `          - name: dev-${name}`, // 10
    `            unit_id: ${unit}`, // 11
    '            points: [ { name: level, function: 3, address: 0, type: uint16 } ]', // 12
    'steps:',
    '  - plugin: fixture-decoder',
    '  - plugin: fixture-encoder',
    'publish:',
    '  uplink: cloud',
    '  topic: "site/{device}/{point}"',
  ];
}

async function load(first: string[], second: string[]): Promise<LoadResult> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('a.yaml', first);
    await ws.write('b.yaml', second);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['a.yaml', 'b.yaml'])));
  } finally {
    await ws.remove();
  }
}

test('two pipelines on one port, driven alike, with their own unit ids, load', async () => {
  const result = await load(rtuPipeline('tanks', 'rs485', '/dev/ttyUSB0', 9600, 1), rtuPipeline('pumps', 'line', '/dev/ttyUSB0', 9600, 2));
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
});

test('a second pipeline driving the line at another speed is refused at its baud, naming the first', async () => {
  const result = await load(rtuPipeline('tanks', 'rs485', '/dev/ttyUSB0', 9600, 1), rtuPipeline('pumps', 'line', '/dev/ttyUSB0', 19200, 2));
  assert.equal(result.ok, false);
  const problems = result.ok ? [] : result.problems;
  assert.deepEqual(problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`), ['b.yaml:8:15 source.modbus_rtu.buses[0].baud WG_ERR_CONFIG_CONFLICT']);
  assert.match(problems[0]!.message, /bus line goes to \/dev\/ttyUSB0, as bus rs485 of pipeline tanks \(.*a\.yaml:6:9\) does, with baud 19200 against 9600/);
});

test('a unit id another pipeline already uses on the line is refused at the later unit_id', async () => {
  const result = await load(rtuPipeline('tanks', 'rs485', '/dev/ttyUSB0', 9600, 7), rtuPipeline('pumps', 'line', '/dev/ttyUSB0', 9600, 7));
  assert.equal(result.ok, false);
  const problems = result.ok ? [] : result.problems;
  assert.deepEqual(problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`), ['b.yaml:11:22 source.modbus_rtu.buses[0].devices[0].unit_id WG_ERR_CONFIG_CONFLICT']);
  assert.match(problems[0]!.message, /unit id 7 on \/dev\/ttyUSB0 is device dev-tanks's already, in pipeline tanks \(.*a\.yaml:10:13\)/);
});

test('pipelines on different ports are not compared', async () => {
  const result = await load(rtuPipeline('tanks', 'rs485', '/dev/ttyUSB0', 9600, 7), rtuPipeline('pumps', 'line', '/dev/ttyUSB1', 19200, 7));
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => p.message).join('\n'));
});

test('one port under two paths (a by-id link and the device it names) is one line, checked as one', async () => {
  // A stand-in for /dev/serial/by-id/usb-...-port0 -> ../../ttyUSB0: any file and a symlink to it.
  const ws = await ConfigWorkspace.create();
  try {
    const device = await ws.write('ttyUSB0', []);
    const byId = ws.path('usb-FTDI_FT232R-if00-port0');
    await symlink(device, byId);
    await ws.write('a.yaml', rtuPipeline('tanks', 'rs485', byId, 9600, 1));
    await ws.write('b.yaml', rtuPipeline('pumps', 'line', device, 19200, 1));
    const result = await loadGatewayConfig(await ws.write('gw.yaml', gatewayLines(['a.yaml', 'b.yaml'])));
    assert.equal(result.ok, false);
    const problems = result.ok ? [] : result.problems;
    assert.deepEqual(problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`), ['b.yaml:8:15 source.modbus_rtu.buses[0].baud WG_ERR_CONFIG_CONFLICT']);
    assert.match(problems[0]!.message, /as bus rs485 of pipeline tanks .* \(as .*usb-FTDI_FT232R-if00-port0: the same port\), with baud 19200 against 9600/);
  } finally {
    await ws.remove();
  }
});
