/**
 * The gateway file's `control` map (docs/config.md): where the control socket goes by default and when
 * written, `false` to turn it off, and a path too long for a Unix socket reported at its position
 * (counted from the lines below: line N is element N-1 of the array). 107 bytes is Linux's sun_path
 * (108 bytes, unix(7)) less its terminating NUL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { defaultControlSocket } from '../../src/host/config/defaults.js';
import { ConfigWorkspace, gatewayLines, pipelineLines } from './config-workspace.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

async function load(ws: ConfigWorkspace, extra: string[], dataDir?: string) {
  await ws.write('p.yaml', pipelineLines());
  const lines = gatewayLines();
  if (dataDir !== undefined) lines.splice(2, 0, `  data_dir: ${dataDir}`);
  return loadGatewayConfig(await ws.write('gw.yaml', [...lines, ...extra]));
}

test('by default the socket is control.sock in the data directory; a written path is taken from the gateway file; false turns it off', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const saved = process.env.RUNTIME_DIRECTORY;
  delete process.env.RUNTIME_DIRECTORY;
  t.after(() => (saved === undefined ? delete process.env.RUNTIME_DIRECTORY : (process.env.RUNTIME_DIRECTORY = saved)));
  const byDefault = await load(ws, []);
  assert.ok(byDefault.ok, JSON.stringify(!byDefault.ok && byDefault.problems));
  assert.deepEqual(byDefault.config.control, { socket: join(ws.dir, 'data', 'control.sock'), socketFrom: 'gateway.data_dir' });
  const written = await load(ws, ['control:', '  socket: ./run/ctl.sock']);
  assert.ok(written.ok);
  assert.deepEqual(written.config.control, { socket: join(ws.dir, 'run', 'ctl.sock'), socketFrom: 'control.socket' });
  const off = await load(ws, ['control: { socket: false }']);
  assert.ok(off.ok);
  assert.deepEqual(off.config.control, { socket: null, socketFrom: null });
});

test("under systemd the default is the unit's runtime directory (the first, when it lists several)", () => {
  assert.deepEqual(defaultControlSocket('/var/lib/wasmgate', { RUNTIME_DIRECTORY: '/run/wasmgate' }), { path: '/run/wasmgate/control.sock', from: 'RUNTIME_DIRECTORY' });
  assert.deepEqual(defaultControlSocket('/var/lib/wasmgate', { RUNTIME_DIRECTORY: '/run/wasmgate:/run/other' }), { path: '/run/wasmgate/control.sock', from: 'RUNTIME_DIRECTORY' });
  assert.deepEqual(defaultControlSocket('/var/lib/wasmgate', {}), { path: '/var/lib/wasmgate/control.sock', from: 'gateway.data_dir' });
});

test('a socket path longer than 107 bytes is a problem at control.socket; so is true, and an unknown key', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const fits = `/tmp/${'a'.repeat(107 - '/tmp/'.length)}`; // 107 bytes
  assert.ok((await load(ws, ['control:', `  socket: ${fits}`])).ok, 'exactly 107 bytes fits');
  // 2-byte UTF-8 characters: 106 characters, 108 bytes.
  const long = `/tmp/${'é'.repeat(51)}${'a'.repeat(50)}`;
  assert.equal(Buffer.byteLength(long), 5 + 102 + 50);
  const result = await load(ws, ['control:', `  socket: ${long}`, '  sokcet: x']);
  assert.equal(result.ok, false);
  const problems = result.ok ? [] : result.problems;
  // gatewayLines() is 10 lines; control: is line 11, socket line 12 (value at column 11), the typo line 13.
  assert.deepEqual(problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`), [
    'gw.yaml:12:11 control.socket WG_ERR_CONFIG_INVALID',
    'gw.yaml:13:3 control.sokcet WG_ERR_CONFIG_INVALID',
  ]);
  assert.equal(problems[0]!.message, `${long} is 157 bytes; a Unix socket path has at most 107: give a shorter path`);
  const bad = await load(ws, ['control: { socket: true }']);
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.problems[0]!.message, /must be a path, or false/);
});

test('a written path too long for a socket: wasmgate validate prints file:line:col control.socket and the byte count', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  await ws.write('p.yaml', pipelineLines());
  const socket = `./${'s'.repeat(120)}.sock`;
  const file = await ws.write('gw.yaml', [...gatewayLines(), 'control:', `  socket: ${socket}`]);
  const run = await runWasmgate(['validate', '--config', file]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const absolute = join(ws.dir, socket);
  assert.ok(run.stdout.includes(`${file}:12:11 control.socket: ${absolute} is ${Buffer.byteLength(absolute)} bytes; a Unix socket path has at most 107: give a shorter path [WG_ERR_CONFIG_INVALID]`), run.stdout);
});

test('a data directory too deep for its default socket is a problem at gateway.data_dir, saying how to fix it', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const saved = process.env.RUNTIME_DIRECTORY;
  delete process.env.RUNTIME_DIRECTORY;
  t.after(() => (saved === undefined ? delete process.env.RUNTIME_DIRECTORY : (process.env.RUNTIME_DIRECTORY = saved)));
  const result = await load(ws, [], `./${'d'.repeat(110)}`);
  assert.equal(result.ok, false);
  const [problem] = result.ok ? [] : result.problems;
  // data_dir is spliced in as line 3, its value at column 13.
  assert.equal(`${problem!.line}:${problem!.column} ${problem!.path}`, '3:13 gateway.data_dir');
  assert.match(problem!.message, /control socket's default place in data_dir, .*control\.sock is \d+ bytes; a Unix socket path has at most 107: set control\.socket to a shorter path, or control\.socket: false/);
  const fixed = await load(ws, ['control: { socket: false }'], `./${'d'.repeat(110)}`);
  assert.ok(fixed.ok, 'turning the socket off is a fix');
});
