/**
 * The package as a user gets it. What broke: `npm pack` left out dist/ and every built .wasm, so
 * `npx wasmgate --help` from an installed tarball failed with ERR_MODULE_NOT_FOUND. Here the tarball
 * is packed from this checkout (already built by `npm test`), installed into a scratch folder with
 * npm, and its own bin runs --help, validate on the shipped demo config and the demo itself, far
 * from the sources. Then a plugin is written, built and tested in that project the way an author
 * outside the checkout works: SDK and harness imported by package name.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribeWhenUp } from '../support/mqtt-subscriber.js';
import { REPO_ROOT } from '../support/plugins.js';
import { loadRecorderArgs, loadsUnder } from '../support/load-recorder.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(NPM, args, { cwd, encoding: 'utf8', env });
  assert.equal(r.status, 0, `npm ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * better-sqlite3 (the durable outbox) installs a prebuilt binary where it can download one, and
 * compiles SQLite otherwise, which takes minutes here (no network but npm) and ran this test past its
 * limit. Its installer also takes a prebuild from a local folder, as a site without that network
 * would provide it: this hands it the binary this checkout's `npm ci` built, so the install is the
 * user's except for where the binary comes from.
 */
async function sqlitePrebuild(into: string): Promise<string> {
  const module = join(REPO_ROOT, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string };
  const folder = join(into, 'prebuilds');
  await mkdir(folder);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tar = spawnSync('tar', ['czf', join(folder, name), '-C', module, 'build/Release/better_sqlite3.node'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, `tar: ${tar.stderr}`);
  return folder;
}

let tmp: string;
let scratch: string;
let installed: string;
let bin: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wasmgate-pack-'));
  // --ignore-scripts: npm test has built dist/ and the plugins already; prepare would build them again.
  npm(['pack', '--ignore-scripts', '--pack-destination', tmp], REPO_ROOT);
  const [tarball] = (await readdir(tmp)).filter((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  scratch = join(tmp, 'site');
  await mkdir(scratch);
  await writeFile(join(scratch, 'package.json'), '{ "name": "site", "private": true }\n');
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, tarball)], scratch, { ...process.env, npm_config_better_sqlite3_local_prebuilds: await sqlitePrebuild(tmp) });
  installed = join(scratch, 'node_modules', 'wasmgate');
  bin = join(scratch, 'node_modules', '.bin', 'wasmgate');
});
after(() => rm(tmp, { recursive: true, force: true }));

test('the packed tarball installs and runs --help, validate and demo without the sources', async (t) => {
  assert.ok(existsSync(join(installed, 'LICENSE')), 'LICENSE is in the package');
  assert.ok(!existsSync(join(installed, 'src')) && !existsSync(join(installed, 'test')), 'no sources or tests in the package');

  // The durable outbox's native module loads where the package was installed.
  const sqlite = spawnSync(process.execPath, ['-e', "const D = require('better-sqlite3'); console.log(new D(':memory:').prepare('select 6 * 7 as v').get().v)"], { cwd: installed, encoding: 'utf8' });
  assert.equal(sqlite.stdout.trim(), '42', sqlite.stderr);

  const help = spawnSync(bin, ['--help'], { cwd: scratch, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: wasmgate /);
  // What runs is the bundled host (an installed package has no src/: its bundle is not checked for being stale).
  const recorded = spawnSync(process.execPath, [...(await loadRecorderArgs(tmp)), join(installed, 'bin', 'wasmgate.js'), '--version'], { cwd: scratch, encoding: 'utf8', env: { ...process.env, WASMGATE_HOST: undefined } });
  assert.equal(recorded.status, 0, recorded.stderr);
  const loaded = loadsUnder(installed, recorded.stderr).map((l) => l.file);
  assert.ok(loaded.includes('dist/bundle/main.js') && !loaded.some((f) => f.startsWith('dist/src/')), loaded.join('\n'));

  const validate = spawnSync(bin, ['validate', '--config', join(installed, 'config', 'demo.yaml')], { cwd: scratch, encoding: 'utf8' });
  assert.equal(validate.status, 0, validate.stdout + validate.stderr);
  assert.match(validate.stdout, /valid, gateway demo-gw-01: 1 uplink, 1 pipeline, 3 steps, 7 points/);

  // The demo on free ports: the shipped config with its two ports replaced, next to the installed package.
  const [plcPort, mqttPort] = [await freePort(), await freePort()];
  const gateway = (await readFile(join(installed, 'config', 'demo.yaml'), 'utf8'))
    .replace('mqtt://127.0.0.1:1883', `mqtt://127.0.0.1:${mqttPort}`)
    .replace('../pipelines/demo-boiler.yaml', './demo-boiler.yaml');
  const pipeline = (await readFile(join(installed, 'pipelines', 'demo-boiler.yaml'), 'utf8')).replace('port: 5020', `port: ${plcPort}`);
  assert.ok(gateway.includes(String(mqttPort)) && pipeline.includes(String(plcPort)), 'ports replaced');
  await writeFile(join(scratch, 'demo.yaml'), gateway);
  await writeFile(join(scratch, 'demo-boiler.yaml'), pipeline);
  const demo = spawn(bin, ['demo', '--config', join(scratch, 'demo.yaml')], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (d) => (output += d));
  demo.stderr.on('data', (d) => (output += d));
  const exited = once(demo, 'exit');
  t.after(() => { if (demo.exitCode === null) demo.kill('SIGKILL'); });

  const subscriber = await subscribeWhenUp(`mqtt://127.0.0.1:${mqttPort}`, 'wasmgate/demo-gw-01/boiler-room/#', { alive: () => demo.exitCode === null, describe: () => output });
  const [first] = await subscriber.waitFor(1, 20_000);
  assert.match(first!.topic, /^wasmgate\/demo-gw-01\/boiler-room\//);
  await subscriber.close();
  demo.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 0, output.slice(-2000));
});

test('a plugin outside the checkout imports the SDK and the harness by package name, builds and passes its test', () => {
  // The compiler is an optional peer dependency: an author installs it, at the version wasmgate builds with.
  const { devDependencies } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const noCompiler = spawnSync(bin, ['plugin', 'build', 'nothing'], { cwd: scratch, encoding: 'utf8' });
  assert.equal(noCompiler.status, 1);
  assert.match(noCompiler.stderr, /npm install --save-dev assemblyscript/);
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `assemblyscript@${devDependencies.assemblyscript}`], scratch);

  const created = spawnSync(bin, ['plugin', 'new', 'clamp', '--kind', 'transform', '--dir', 'clamp'], { cwd: scratch, encoding: 'utf8' });
  assert.equal(created.status, 0, created.stderr);
  const source = readFileSync(join(scratch, 'clamp', 'clamp.ts'), 'utf8');
  assert.match(source, /from "wasmgate\/plugins\/sdk"/);
  assert.match(readFileSync(join(scratch, 'clamp', 'clamp.test.mjs'), 'utf8'), /from 'wasmgate\/plugin-harness'/);

  const built = spawnSync(bin, ['plugin', 'build', 'clamp'], { cwd: scratch, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  assert.match(built.stdout, /^built clamp: .*clamp\.wasm/);
  const tested = spawnSync(process.execPath, ['--test', 'clamp/clamp.test.mjs'], { cwd: scratch, encoding: 'utf8' });
  assert.equal(tested.status, 0, tested.stdout + tested.stderr);
});
