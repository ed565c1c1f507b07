/**
 * The daemon as the unit starts it (bin/wasmgate.js with its flags, test/support/gateway-process.ts)
 * runs the bundle in every thread: the CLI, the config thread, the pipeline worker, and the build's
 * validators beside them. What broke before (an experiment outside the tree): bundled workers still
 * started tsc's files, and paths relative to a module's own location missed from the bundle's folder.
 * Checked with a preload given to node (test/support/load-recorder.ts) that records each file the
 * process and its workers load, against a real PLC simulator and an MQTT broker (aedes, in this process). And
 * the other way round, that the recording sees dist/src when that is what runs (so the check can fail).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startAedes } from '../support/aedes.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { daemonCommand } from '../support/gateway-process.js';
import { REPO_ROOT } from '../support/plugins.js';
import { loadRecorderArgs, loadsUnder } from '../support/load-recorder.js';


test('the daemon started through bin/wasmgate.js runs the bundle in every thread, the validators beside it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-bundle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1234] } } });
  t.after(() => plc.close());
  const broker = await startAedes();
  t.after(() => broker.dispose());
  await writeFile(join(dir, 'gateway.yaml'), [
    'gateway: { id: gw-bundle, data_dir: ./data, log: { level: info, format: json } }',
    `uplinks: { cloud: { mqtt: { url: "${broker.url}", qos: 1 } } }`,
    'pipelines: [ ./pipeline.yaml ]',
  ].join('\n'));
  await writeFile(join(dir, 'pipeline.yaml'), [
    'pipeline: { name: p }',
    'source:',
    '  modbus_tcp:',
    '    devices:',
    `      - { name: plc, host: 127.0.0.1, port: ${plc.port}, interval: 200ms, timeout: 1s, points: [ { name: level, function: 3, address: 0, type: uint16 } ] }`,
    'steps:',
    '  - plugin: modbus',
    '  - plugin: json',
    'publish: { uplink: cloud, topic: "t/{point}" }',
  ].join('\n'));
  const messages = await subscribe(broker.url, 't/#');
  t.after(() => messages.close());
  const daemon = daemonCommand(join(dir, 'gateway.yaml'));
  const argv = [daemon.argv[0]!, ...(await loadRecorderArgs(dir)), ...daemon.argv.slice(1)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...daemon.env, WASMGATE_HOST: undefined } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  t.after(() => child.kill('SIGKILL'));
  const [message] = await messages.waitFor(1, 30_000);
  assert.equal((JSON.parse(message!.payload.toString()) as { value: number }).value, 1234, 'the register the PLC holds');
  child.kill('SIGTERM');
  assert.deepEqual(await exited, [0, null], stderr.slice(-2000));

  const loaded = loadsUnder(REPO_ROOT, stderr);
  const files = new Set(loaded.map((l) => l.file));
  assert.deepEqual(loaded.filter((l) => l.file.startsWith('dist/') && !l.file.startsWith('dist/bundle/')), [], 'nothing of tsc\'s output runs');
  for (const entry of ['main.js', 'config-thread-main.js', 'worker-main.js', 'standalone-validators.generated.cjs']) {
    assert.ok(files.has(`dist/bundle/${entry}`), `dist/bundle/${entry} loaded`);
  }
  // The entries ran in threads of their own: the config thread and the pipeline worker.
  const threadOf = (file: string) => loaded.find((l) => l.file === `dist/bundle/${file}`)!.thread;
  assert.equal(threadOf('main.js'), 'main');
  assert.notEqual(threadOf('config-thread-main.js'), 'main');
  assert.notEqual(threadOf('worker-main.js'), 'main');
  assert.equal(threadOf('standalone-validators.generated.cjs'), threadOf('config-thread-main.js'), 'the config thread checks with the build\'s validators');
});

test('the recording sees tsc\'s output where that runs: WASMGATE_HOST=dist', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-bundle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const recorder = await loadRecorderArgs(dir);
  const run = (host: string) => spawnSync(process.execPath, [...recorder, join(REPO_ROOT, 'bin/wasmgate.js'), '--version'], { encoding: 'utf8', env: { ...process.env, WASMGATE_HOST: host } });
  const dist = run('dist');
  assert.equal(dist.status, 0, dist.stderr);
  const files = loadsUnder(REPO_ROOT, dist.stderr).map((l) => l.file);
  assert.ok(files.includes('dist/src/host/cli/main.js'), files.join('\n'));
  assert.ok(!files.some((f) => f.startsWith('dist/bundle/')));
  const bundled = run('bundle');
  assert.equal(bundled.status, 0, bundled.stderr);
  assert.ok(loadsUnder(REPO_ROOT, bundled.stderr).some((l) => l.file === 'dist/bundle/main.js'));
});
