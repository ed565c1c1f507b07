/**
 * probe and write with --config naming a gateway whose control socket is off (control.socket: false):
 * no daemon run with that file can be asked, so they work stand-alone and say so. Before, both
 * refused with "wasmgate status: ... nothing to ask", naming another command and no way forward.
 * Real peer: pymodbus's TCP server; the value read is the one put in its image here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { findMbpoll, mbpollRead } from '../support/mbpoll.js';

describe('commissioning with a config whose control socket is off', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('mbpoll', !!findMbpoll()) }, () => {
  let plc: PymodbusServer;
  let dir: string;
  let gatewayFile: string;
  before(async () => {
    plc = await startPymodbusServer({ holding: { 0: [4321, 0] } });
    dir = await mkdtemp(join(tmpdir(), 'wasmgate-socket-off-'));
    gatewayFile = join(dir, 'gateway.yaml');
    await writeFile(gatewayFile, 'gateway: { id: gw-off, data_dir: ./data }\ncontrol: { socket: false }\nuplinks: { cloud: { mqtt: { url: "mqtt://127.0.0.1:1" } } }\npipelines: [./p.yaml]\n');
    await writeFile(join(dir, 'p.yaml'), `pipeline: { name: p }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plc.port}, interval: 1h, points: [{ name: sp, function: 3, address: 1, type: uint16, access: read_write }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
  });
  after(async () => {
    await plc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('probe reads stand-alone and says why', async () => {
    const run = await runWasmgate(['probe', '--tcp', `127.0.0.1:${plc.port}`, '--count', '1', '--json', '--config', gatewayFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /turns the control socket off \(control\.socket: false\); nothing to ask: working stand-alone/);
    assert.doesNotMatch(run.stderr, /wasmgate status/);
    assert.deepEqual((JSON.parse(run.stdout) as { registers: Array<{ word: number }> }).registers.map((r) => r.word), [4321]);
  });

  test('write writes stand-alone, read back by mbpoll', async () => {
    const run = await runWasmgate(['write', 'plc', 'sp', '77', '--json', '--config', gatewayFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /working stand-alone/);
    assert.deepEqual(await mbpollRead({ port: plc.port, table: 'holding', address: 1, count: 1 }), [77]);
  });
});
