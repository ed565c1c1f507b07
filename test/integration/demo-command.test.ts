// `wasmgate demo` as a newcomer runs it, as a child process: PLC simulator and embedded broker come up,
// live readings of every demo point reach an independent MQTT subscriber, SIGINT stops it cleanly.
// The shipped config listens on fixed ports (5020, 1883); the test uses a copy with free ports.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_REGISTER_MAP } from '../../src/host/demo/demo-register-map.js';
import { subscribeWhenUp } from '../support/mqtt-subscriber.js';
import { REPO_ROOT } from '../support/plugins.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('npm start (wasmgate demo) publishes live readings of every demo point and stops cleanly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [plcPort, mqttPort] = [await freePort(), await freePort()];
  const gateway = (await readFile(join(REPO_ROOT, 'config/demo.yaml'), 'utf8'))
    .replace('mqtt://127.0.0.1:1883', `mqtt://127.0.0.1:${mqttPort}`)
    .replace('../pipelines/demo-boiler.yaml', './demo-boiler.yaml')
    // Its own data directory (and control socket): ../.wasmgate-data would be /tmp's, shared by every run.
    .replace('data_dir: ../.wasmgate-data', 'data_dir: ./data');
  const pipeline = (await readFile(join(REPO_ROOT, 'pipelines/demo-boiler.yaml'), 'utf8')).replace('port: 5020', `port: ${plcPort}`);
  assert.notEqual(gateway, await readFile(join(REPO_ROOT, 'config/demo.yaml'), 'utf8'), 'broker URL replaced');
  assert.match(pipeline, new RegExp(`port: ${plcPort}`), 'PLC port replaced');
  await writeFile(join(dir, 'demo.yaml'), gateway);
  await writeFile(join(dir, 'demo-boiler.yaml'), pipeline);

  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/wasmgate.js'), 'demo', '--config', join(dir, 'demo.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = once(child, 'exit');
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

  // The broker is the demo's own; wait until it accepts a subscriber.
  const subscriber = await subscribeWhenUp(`mqtt://127.0.0.1:${mqttPort}`, 'wasmgate/#', { alive: () => child.exitCode === null, describe: () => output });
  const names = DEMO_REGISTER_MAP.map((p) => p.name);
  // Besides the readings, the uplink's retained status (docs/config.md, status) is under wasmgate/.
  const STATUS = 'wasmgate/demo-gw-01/status';
  const readings = () => subscriber.messages.filter((m) => m.topic !== STATUS);
  const seen = () => new Set(readings().map((m) => JSON.parse(m.payload.toString()).point as string));
  await subscriber.waitUntil(() => names.every((n) => seen().has(n)), 'a reading of every demo point', 20_000);
  assert.deepEqual(subscriber.messages.filter((m) => m.topic === STATUS).map((m) => m.payload.toString()), ['online']);
  for (const m of readings()) {
    const body = JSON.parse(m.payload.toString());
    assert.equal(m.topic, `wasmgate/demo-gw-01/boiler-room/${body.point}`);
    assert.equal(body.quality, 'good');
    assert.match(body.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const temp = readings().map((m) => JSON.parse(m.payload.toString())).find((b) => b.point === 'boiler.temp');
  assert.ok(temp.value > 40 && temp.value < 100, `boiler temperature is a plausible process value: ${temp.value}`);
  assert.equal(temp.unit, 'degC');
  await subscriber.close();
  assert.match(output, /boiler\.temp/, 'readings show in the log too');

  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 0, `clean exit on SIGINT\n${output.slice(-2000)}`);
  assert.match(output, /gateway stopped/);
});
