/**
 * `wasmgate validate`: every problem printed as `file:line:col setting: message [code]`, a summary
 * line, exit code 0 for a valid configuration and 1 for an invalid one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runValidate } from '../../src/host/cli/validate.js';
import { formatProblem } from '../../src/host/config/index.js';
import { ConfigWorkspace, gatewayLines, pipelineLines } from './config-workspace.js';

// The workspace's plugins are manifests without modules (test/fixtures/plugins/config/), so these tests
// check the files only (`plugins: false`); configuring real plugins is in validate-plugins.test.ts.
test('a valid configuration prints one summary line and exits 0', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', pipelineLines());
    const gateway = await ws.write('gw.yaml', gatewayLines());
    const lines: string[] = [];
    assert.equal(await runValidate({ config: gateway, plugins: false }, (line) => lines.push(line)), 0);
    assert.deepEqual(lines, [`${gateway}: valid, gateway gw1: 1 uplink, 1 pipeline, 3 steps, 1 point`]);
  } finally {
    await ws.remove();
  }
});

test('an invalid configuration prints every problem, then a summary, and exits 1', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const pipeline = pipelineLines();
    pipeline[6] = '        host: 127.0.0.1'; // line 7, unchanged
    pipeline.splice(7, 0, '        port: 0'); // line 8: port value at col 15
    pipeline[pipeline.length - 1] = '  uplink: edge'; // line 16: value at col 11
    await ws.write('p.yaml', pipeline);
    const gatewayText = gatewayLines();
    gatewayText[1] = '  id: gw 1'; // line 2: value at col 7
    const gateway = await ws.write('gw.yaml', gatewayText);
    const lines: string[] = [];
    assert.equal(await runValidate({ config: gateway, plugins: false }, (line) => lines.push(line)), 1);
    // The files lie outside the working directory, so they print as absolute paths.
    assert.deepEqual(lines, [
      `${gateway}:2:7 gateway.id: must be a name made of letters, digits, ".", "_" and "-" (got "gw 1") [WG_ERR_CONFIG_INVALID]`,
      `${ws.path('p.yaml')}:8:15 source.modbus_tcp.devices[0].port: must be >= 1 (got 0) [WG_ERR_CONFIG_INVALID]`,
      `${ws.path('p.yaml')}:16:11 publish.uplink: uplink "edge" is not defined in the gateway file [WG_ERR_CONFIG_UNKNOWN_UPLINK]`,
      `${gateway}: invalid, 3 problems in 2 files`,
    ]);
  } finally {
    await ws.remove();
  }
});

test('a file that cannot be read is a problem like any other', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const lines: string[] = [];
    assert.equal(await runValidate({ config: ws.path('none.yaml') }, (line) => lines.push(line)), 1);
    assert.deepEqual(lines, [
      `${ws.path('none.yaml')}:1:1 cannot read config file ${ws.path('none.yaml')}: no such file [WG_ERR_CONFIG_READ]`,
      `${ws.path('none.yaml')}: invalid, 1 problem in 1 file`,
    ]);
  } finally {
    await ws.remove();
  }
});

test('problems print relative to the working directory when the file lies below it', () => {
  const problem = { file: '/srv/gw/pipelines/a.yaml', line: 3, column: 5, path: 'publish.qos', code: 'WG_ERR_CONFIG_INVALID', message: 'must be one of 0, 1 (got 2)' } as const;
  assert.equal(formatProblem(problem, '/srv/gw'), 'pipelines/a.yaml:3:5 publish.qos: must be one of 0, 1 (got 2) [WG_ERR_CONFIG_INVALID]');
  assert.equal(formatProblem(problem, '/elsewhere'), '/srv/gw/pipelines/a.yaml:3:5 publish.qos: must be one of 0, 1 (got 2) [WG_ERR_CONFIG_INVALID]');
  assert.equal(formatProblem({ ...problem, path: '' }), '/srv/gw/pipelines/a.yaml:3:5 must be one of 0, 1 (got 2) [WG_ERR_CONFIG_INVALID]');
});

// A register map's 40001 (its first holding register, numbered from 1 with the table in front) used
// as the address reads protocol address 40001, not 0: the device answers exception 2 or, worse, other
// data, and validate passed it without a word. It now says so at the address, and refuses nothing.
test('a 1-based register number as address gets a hint at the address; the configuration stays valid', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const pipeline = pipelineLines();
    const points = [
      '          - { name: p40001, function: 3, address: 40001, type: int16 }', // hinted
      '          - { name: p49999, function: 3, address: 49999, type: int16 }', // hinted: last 5-digit 4xxxx
      '          - { name: p30001, function: 4, address: 30001, type: int16 }', // hinted
      '          - { name: p10001, function: 2, address: 10001, type: bool }', // hinted
      '          - { name: p40000, function: 3, address: 40000, type: int16 }', // SunSpec's base: no 1-based number
      '          - { name: p50000, function: 3, address: 50000, type: int16 }', // past the 5-digit notation
      '          - { name: p40001in, function: 4, address: 40001, type: int16 }', // 4xxxx is not an input register
      '          - { name: p10001c, function: 1, address: 10001, type: bool }', // coils are 0xxxx
    ];
    pipeline.splice(8, 1, ...points); // lines 9..16
    await ws.write('p.yaml', pipeline);
    const gateway = await ws.write('gw.yaml', gatewayLines());
    const lines: string[] = [];
    assert.equal(await runValidate({ config: gateway, plugins: false }, (line) => lines.push(line)), 0);
    const at = (i: number, address: number) => `${ws.path('p.yaml')}:${9 + i}:${points[i]!.indexOf(`address: ${address}`) + 'address: '.length + 1} source.modbus_tcp.devices[0].points[${i}].address: hint: `;
    assert.deepEqual(lines, [
      `${at(0, 40001)}40001 on function 3 (holding registers) looks like a 1-based register number (40001 = the first of the holding registers); ` +
        "address is the 0-based protocol address, so if the device's map writes 40001, use address: 0. If the map gives protocol addresses (SunSpec maps start at 40000), 40001 is right",
      `${at(1, 49999)}49999 on function 3 (holding registers) looks like a 1-based register number (40001 = the first of the holding registers); ` +
        "address is the 0-based protocol address, so if the device's map writes 49999, use address: 9998. If the map gives protocol addresses (SunSpec maps start at 40000), 49999 is right",
      `${at(2, 30001)}30001 on function 4 (input registers) looks like a 1-based register number (30001 = the first of the input registers); ` +
        "address is the 0-based protocol address, so if the device's map writes 30001, use address: 0. If the map gives protocol addresses (SunSpec maps start at 40000), 30001 is right",
      `${at(3, 10001)}10001 on function 2 (discrete inputs) looks like a 1-based register number (10001 = the first of the discrete inputs); ` +
        "address is the 0-based protocol address, so if the device's map writes 10001, use address: 0. If the map gives protocol addresses (SunSpec maps start at 40000), 10001 is right",
      `${gateway}: valid, gateway gw1: 1 uplink, 1 pipeline, 3 steps, 8 points`,
    ]);
  } finally {
    await ws.remove();
  }
});
