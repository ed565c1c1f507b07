/**
 * The start cache (src/host/cli/config-cache.ts), against the real daemon: a Modbus TCP simulator,
 * mosquitto, and `bin/wasmgate.js run` as the unit starts it. A first start reads and checks the files
 * and writes the cache; every test then changes one input of the configuration (the pipeline file,
 * an environment variable the files use, the password file, a plugin's .wasm) or damages the cache
 * (truncated, garbage, written by another build, a directory that cannot be written) and checks that
 * the next start took the full path (`config.cache` says used: false and why) and behaved as a start
 * without any cache does: the new setting in effect, or the same problem, with file, line and column,
 * as with WASMGATE_CONFIG_CACHE=off. Positions are counted by hand from the files below.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { connectAsync } from 'mqtt';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { daemonCommand, startGatewayProcess } from '../support/gateway-process.js';
import { writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { REPO_ROOT } from '../support/plugins.js';
import { needs } from '../support/tools.js';

// Line 12: `      password_file: ./secret`, the value at column 22.
const gatewayFile = (brokerUrl: string) => `gateway:
  id: gw-cache
  data_dir: ./data
  log: { level: info, format: json }
uplinks:
  cloud:
    mqtt:
      url: ${brokerUrl}
      qos: 1
      reconnect: { min: 50ms, max: 500ms }
      username: gw
      password_file: ./secret
pipelines:
  - ./pipeline.yaml
`;

// Line 8: `        interval: 100ms`, the value at column 19; line 13: the json step, its map at column 5.
const PIPELINE = `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: \${PLC_PORT}
        interval: 100ms
        points:
          - { name: level, function: 3, address: 0, type: uint16 }
steps:
  - plugin: modbus
  - path: ./plugins/json.wasm
publish: { uplink: cloud, topic: "\${TOPIC_ROOT}/{point}" }
`;

interface Peers {
  brokerUrl: string;
  env: Record<string, string>;
}

async function peers(t: TestContext): Promise<Peers> {
  // Only these may connect: a start that sent a stale password would publish nothing.
  const broker = await startMosquitto({ users: { gw: 'first password', sub: 'subscriber' } });
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  return { brokerUrl: broker.url, env: { PLC_PORT: String(plc.port), TOPIC_ROOT: 'plant', WASMGATE_REEXEC: '0' } };
}

async function fixture(t: TestContext, p: Peers): Promise<GatewayFixture> {
  const f = await writeGatewayFixture(gatewayFile(p.brokerUrl), PIPELINE);
  t.after(() => f.dispose());
  writeFileSync(join(f.dir, 'secret'), 'first password\n');
  mkdirSync(join(f.dir, 'plugins'));
  copyFileSync(join(REPO_ROOT, 'plugins', 'json', 'build', 'json.wasm'), join(f.dir, 'plugins', 'json.wasm'));
  copyFileSync(join(REPO_ROOT, 'plugins', 'json', 'plugin.yaml'), join(f.dir, 'plugins', 'json.plugin.yaml'));
  return f;
}

interface CacheLine {
  used?: boolean;
  reason?: string;
  written?: boolean;
  file?: string;
}

interface Start {
  /** The `config.cache` line of the start (used or not). */
  lookup: CacheLine;
  /** The `config.cache` line after the gateway ran, when it wrote (or failed to write) the cache. */
  save?: CacheLine;
  startMs: Record<string, number>;
  /** The topic of the first message the subscriber saw. */
  topic: string;
}

/**
 * Starts the daemon, waits for its first message at the broker (and the cache write, if it writes),
 * stops it. `refused`: the broker must refuse the gateway's password instead (no message then).
 */
async function runOnce(f: GatewayFixture, p: Peers, env: Record<string, string> = {}, refused = false): Promise<Start> {
  const subscriber = await connectAsync(p.brokerUrl, { reconnectPeriod: 0, username: 'sub', password: 'subscriber' });
  try {
    const first = new Promise<string>((resolve) => subscriber.on('message', (topic) => resolve(topic)));
    await subscriber.subscribeAsync('+/level', { qos: 0 }); // the data, not the gateway's status topic
    const daemon = startGatewayProcess(f.gatewayFile, { ...p.env, ...env });
    try {
      const started = JSON.parse(await daemon.waitForLine((l) => l.includes('"gateway.started"'), 'gateway.started', 30_000)) as { startMs: Record<string, number> };
      const lookup = JSON.parse(await daemon.waitForLine((l) => l.includes('"config.cache"') && l.includes('"used"'), 'config.cache', 5_000)) as CacheLine;
      const saves = !lookup.used && lookup.file !== undefined;
      const save = saves ? (JSON.parse(await daemon.waitForLine((l) => l.includes('"config.cache"') && l.includes('"written"'), 'the cache write', 10_000)) as CacheLine) : undefined;
      const topic = refused ? (await daemon.waitForLine((l) => /not authorized/.test(l), 'the broker refusing the password', 10_000), '') : await first;
      return { lookup, ...(save ? { save } : {}), startMs: started.startMs, topic };
    } finally {
      await daemon.stop();
    }
  } finally {
    await subscriber.endAsync(true);
  }
}

/** A start that must fail: exit code and stderr, with the cache as it is and with it turned off. */
function failedStart(f: GatewayFixture, p: Peers): { cached: { status: number | null; stderr: string }; off: { status: number | null; stderr: string } } {
  const run = (extra: Record<string, string>) => {
    const { argv, env } = daemonCommand(f.gatewayFile);
    const r = spawnSync(argv[0]!, argv.slice(1), { env: { ...env, ...p.env, ...extra }, encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stderr: r.stderr };
  };
  return { cached: run({}), off: run({ WASMGATE_CONFIG_CACHE: 'off' }) };
}

function cacheFile(f: GatewayFixture): string {
  const name = readdirSync(join(f.dir, 'data')).find((n) => n.startsWith('config-cache-'));
  assert.ok(name, 'a cache file in data_dir');
  return join(f.dir, 'data', name);
}

/** A cold start that writes the cache, then a warm one that uses it: the ground every hostile test stands on. */
async function warmed(t: TestContext): Promise<{ f: GatewayFixture; p: Peers }> {
  const p = await peers(t);
  const f = await fixture(t, p);
  const cold = await runOnce(f, p);
  assert.equal(cold.lookup.used, false);
  assert.ok(cold.startMs.configConfigured !== undefined, JSON.stringify(cold.startMs));
  assert.equal(cold.save?.written, true, JSON.stringify(cold.save));
  return { f, p };
}

const skip = needs('mosquitto', !!mosquittoPath());

test('a warm start with every input unchanged uses the cache: nothing parsed, checked or configured', skip, async (t) => {
  const { f, p } = await warmed(t);
  // The password is not in the cache file: it is read again from its file at a hit (the broker
  // accepting the warm start's connection shows it was).
  assert.ok(!readFileSync(cacheFile(f)).includes('first password'), 'no password in the cache file');
  const warm = await runOnce(f, p);
  assert.equal(warm.lookup.used, true, JSON.stringify(warm.lookup));
  assert.equal(warm.save, undefined, 'nothing written on a hit');
  // The config thread asked the cache and answered: it never loaded the config modules, read the
  // files or configured a plugin (those phases are marked only when they run; the cold start has them).
  assert.ok(warm.startMs.configCache !== undefined, JSON.stringify(warm.startMs));
  assert.equal(warm.startMs.configImported, undefined, JSON.stringify(warm.startMs));
  assert.equal(warm.startMs.configLoaded, undefined);
  assert.equal(warm.startMs.configConfigured, undefined);
  assert.equal(warm.topic, 'plant/level');
});

test('an edited pipeline file: full path; a valid edit takes effect, an invalid one is the same problem at file:line:col', skip, async (t) => {
  const { f, p } = await warmed(t);
  const pipeline = join(f.dir, 'pipeline.yaml');
  writeFileSync(pipeline, PIPELINE.replace('"${TOPIC_ROOT}/{point}"', '"edited/{point}"'));
  const edited = await runOnce(f, p);
  assert.equal(edited.lookup.used, false);
  assert.equal(edited.lookup.reason, `${pipeline} changed`);
  assert.equal(edited.topic, 'edited/level');

  writeFileSync(pipeline, PIPELINE.replace('interval: 100ms', 'interval: 100 parsecs'));
  const { cached, off } = failedStart(f, p);
  assert.equal(cached.status, 1);
  assert.match(cached.stderr, /pipeline\.yaml:8:19 source\.modbus_tcp\.devices\[0\]\.interval: /);
  assert.equal(cached.stderr, off.stderr);
});

test('a changed environment variable the files use: full path, the new value in effect', skip, async (t) => {
  const { f, p } = await warmed(t);
  const changed = await runOnce(f, p, { TOPIC_ROOT: 'elsewhere' });
  assert.equal(changed.lookup.used, false);
  assert.equal(changed.lookup.reason, 'environment variable TOPIC_ROOT changed');
  assert.equal(changed.topic, 'elsewhere/level');
});

test('a changed password file: full path, the new password sent; a removed one is the same problem at file:line:col', skip, async (t) => {
  const { f, p } = await warmed(t);
  const secret = join(f.dir, 'secret');
  // A password the broker does not know: from the cache, the old one would have connected.
  writeFileSync(secret, 'second password\n');
  const changed = await runOnce(f, p, {}, true);
  assert.equal(changed.lookup.used, false);
  assert.equal(changed.lookup.reason, `${secret} changed`);

  writeFileSync(secret, 'first password\n');
  const back = await runOnce(f, p);
  assert.equal(back.lookup.used, false, 'changed again: the cache the refused start wrote holds the second password\'s file');
  assert.equal(back.topic, 'plant/level');

  await import('node:fs/promises').then((fs) => fs.rm(secret));
  const { cached, off } = failedStart(f, p);
  assert.equal(cached.status, 1);
  assert.match(cached.stderr, /gateway\.yaml:12:22 uplinks\.cloud\.mqtt\.password_file: /);
  assert.equal(cached.stderr, off.stderr);
});

test('a replaced plugin .wasm: full path, and a module that does not compile is the same problem at the step', skip, async (t) => {
  const { f, p } = await warmed(t);
  const wasm = join(f.dir, 'plugins', 'json.wasm');
  writeFileSync(wasm, Buffer.from('\0asm garbage, not a module'));
  const { cached, off } = failedStart(f, p);
  assert.equal(cached.status, 1);
  assert.match(cached.stderr, /pipeline\.yaml:13:5 steps\[1\]: /);
  assert.equal(cached.stderr, off.stderr);
});

test('a truncated cache file and a garbage one: full path, and the cache is written again', skip, async (t) => {
  const { f, p } = await warmed(t);
  const file = cacheFile(f);
  truncateSync(file, Math.floor(readFileSync(file).length / 2));
  const truncated = await runOnce(f, p);
  assert.equal(truncated.lookup.used, false);
  assert.match(truncated.lookup.reason!, /^corrupt/);
  assert.equal(truncated.save?.written, true);
  assert.equal(truncated.topic, 'plant/level');

  writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  const garbage = await runOnce(f, p);
  assert.equal(garbage.lookup.used, false);
  assert.equal(garbage.lookup.reason, 'not a cache file of this format');
  assert.equal(garbage.save?.written, true);

  const again = await runOnce(f, p);
  assert.equal(again.lookup.used, true);
});

test('a cache written by another build of wasmgate: full path', skip, async (t) => {
  const { f, p } = await warmed(t);
  const file = cacheFile(f);
  // The file's documented format (config-cache.ts): "WGC1", SHA-256 of the body, v8.serialize body;
  // re-signed after changing the build it names, as another version would have written it.
  const body = deserialize(readFileSync(file).subarray(36)) as { code: string };
  body.code = 'wasmgate 0.0.1 on another Node';
  const bytes = serialize(body);
  writeFileSync(file, Buffer.concat([Buffer.from('WGC1'), createHash('sha256').update(bytes).digest(), bytes]));
  const other = await runOnce(f, p);
  assert.equal(other.lookup.used, false);
  assert.equal(other.lookup.reason, 'written by another build of wasmgate or Node');
  assert.equal(other.save?.written, true);
});

test('a cache directory that cannot be written: the gateway starts, says so, and the next start reads the files in full', skip, async (t) => {
  const p = await peers(t);
  const f = await fixture(t, p);
  // A regular file where the directory's parent should be: mkdir fails even for root (no chmod trick).
  writeFileSync(join(f.dir, 'blocker'), '');
  const env = { WASMGATE_CONFIG_CACHE: join(f.dir, 'blocker', 'cache') };
  const first = await runOnce(f, p, env);
  assert.equal(first.lookup.used, false);
  assert.equal(first.save?.written, false);
  assert.match(first.save!.reason!, /ENOTDIR/);
  assert.equal(first.topic, 'plant/level');
  const second = await runOnce(f, p, env);
  assert.equal(second.lookup.used, false);
  assert.equal(second.lookup.reason, `unreadable: ENOTDIR: not a directory, open '${join(f.dir, 'blocker', 'cache')}/${second.lookup.file!.split('/').pop()}'`);
  assert.equal(second.topic, 'plant/level');
});

test('WASMGATE_CONFIG_CACHE=off: no cache read or written', skip, async (t) => {
  const p = await peers(t);
  const f = await fixture(t, p);
  const off = await runOnce(f, p, { WASMGATE_CONFIG_CACHE: 'off' });
  assert.equal(off.lookup.used, false);
  assert.equal(off.lookup.reason, 'turned off (WASMGATE_CONFIG_CACHE)');
  assert.equal(off.save, undefined);
  assert.ok(!readdirSync(join(f.dir, 'data')).some((n) => n.startsWith('config-cache-')));
});

test('a password written in the gateway file is not cached: it would be copied to disk', skip, async (t) => {
  const p = await peers(t);
  const f = await fixture(t, p);
  writeFileSync(f.gatewayFile, gatewayFile(p.brokerUrl).replace('password_file: ./secret', 'password: first password'));
  const first = await runOnce(f, p);
  assert.equal(first.save?.written, false);
  assert.equal(first.save?.reason, 'uplinks.0.password is written in a file: a start cache would copy the password to disk (use password_file or password_env)');
  const second = await runOnce(f, p);
  assert.equal(second.lookup.reason, 'no cache yet');
});
