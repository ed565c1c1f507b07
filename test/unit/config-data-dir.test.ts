/**
 * Where the durable state goes when the gateway file names no data_dir (docs/config.md): systemd's
 * state directory for the unit ($STATE_DIRECTORY, /var/lib/wasmgate under StateDirectory=wasmgate),
 * which the unit's ProtectSystem=strict leaves writable, else ./data next to the gateway file. A
 * data_dir that is written wins over both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { defaultDataDir } from '../../src/host/config/defaults.js';
import { ConfigWorkspace, gatewayLines, pipelineLines } from './config-workspace.js';

/** Runs `body` with these variables set (undefined: unset), and puts them back afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

async function load(ws: ConfigWorkspace, dataDir?: string) {
  await ws.write('p.yaml', pipelineLines());
  const lines = gatewayLines();
  if (dataDir !== undefined) lines.splice(2, 0, `  data_dir: ${dataDir}`);
  const result = await loadGatewayConfig(await ws.write('gw.yaml', lines));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config;
}

test('no data_dir under systemd: the state directory, and the control socket default follows it', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const state = join(ws.dir, 'var-lib-wasmgate');
  const config = await withEnv({ STATE_DIRECTORY: state, RUNTIME_DIRECTORY: undefined }, () => load(ws));
  assert.equal(config.dataDir, state);
  assert.deepEqual(config.control, { socket: join(state, 'control.sock'), socketFrom: 'gateway.data_dir' });
});

test('no data_dir outside systemd: ./data next to the gateway file', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const config = await withEnv({ STATE_DIRECTORY: undefined }, () => load(ws));
  assert.equal(config.dataDir, join(ws.dir, 'data'));
});

test('a written data_dir wins over $STATE_DIRECTORY, relative to the gateway file', async (t) => {
  const ws = await ConfigWorkspace.create();
  t.after(() => ws.remove());
  const config = await withEnv({ STATE_DIRECTORY: '/var/lib/wasmgate' }, () => load(ws, './spool'));
  assert.equal(config.dataDir, join(ws.dir, 'spool'));
});

test('several state directories (StateDirectory=a b): the first one', () => {
  assert.deepEqual(defaultDataDir('/etc/wasmgate', { STATE_DIRECTORY: '/var/lib/wasmgate:/var/lib/other' }), { path: '/var/lib/wasmgate', from: 'STATE_DIRECTORY' });
  assert.deepEqual(defaultDataDir('/etc/wasmgate', { STATE_DIRECTORY: '' }), { path: '/etc/wasmgate/data', from: 'default' });
});
