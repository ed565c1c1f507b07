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
