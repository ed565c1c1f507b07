/**
 * The Debian package, without a container (docs/service.md): packaging/build-deb.sh builds it from
 * this checkout (already built by `npm test`), dpkg-deb unpacks its files and its control archive into
 * a scratch root, and then: what it holds; its maintainer scripts (shellcheck, and run against the
 * scratch root with stand-ins for the commands that would change this machine's users); the installed
 * unit through `systemd-analyze verify`; that the installed CLI runs the bundled host; and the installed daemon, from the unpacked tree with its
 * shipped gateway file (ports changed to the test's), polling a real PLC and publishing to a real broker.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { notifyPython, startNotifyListener } from '../support/notify-listener.js';
import { REPO_ROOT } from '../support/plugins.js';
import { findTool, needs } from '../support/tools.js';
import { loadRecorderArgs, loadsUnder } from '../support/load-recorder.js';
import { BUNDLE_COPIED, BUNDLE_DIR, BUNDLE_ENTRIES } from '../../src/host/host-bundle/entries.js';

const dpkgDeb = findTool('dpkg-deb');
const tools = needs('dpkg-deb', dpkgDeb !== undefined);

let tmp: string;
let deb: string;
let root: string;
let control: string;

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Building the package (npm ci of the production modules, native ones compiled) took 28-98 s on a
// shared 2-core machine: more than the suite's 120 s per test when the cores are crowded, hence its own bound.
before(async () => {
  if (!dpkgDeb) return;
  tmp = await mkdtemp(join(tmpdir(), 'wasmgate-deb-'));
  const started = process.hrtime.bigint();
  deb = run(join(REPO_ROOT, 'packaging/build-deb.sh'), [join(tmp, 'out')]).trim();
  process.stdout.write(`# packaging/build-deb.sh took ${Number(process.hrtime.bigint() - started) / 1e6 | 0} ms\n`);
  root = join(tmp, 'root');
  control = join(tmp, 'control');
  run(dpkgDeb, ['-x', deb, root]);
  run(dpkgDeb, ['-e', deb, control]);
}, { timeout: 600_000 });
after(() => (tmp ? rm(tmp, { recursive: true, force: true }) : undefined));

const lib = (): string => join(root, 'usr/lib/wasmgate');

test('control: the architecture of this machine, Node of the major the native modules were compiled for, the configuration as conffiles', tools, () => {
  const field = (name: string): string => run(dpkgDeb!, ['-f', deb, name]).trim();
  assert.equal(field('Package'), 'wasmgate');
  assert.equal(field('Version'), (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.equal(field('Architecture'), run('dpkg', ['--print-architecture']).trim());
  const major = Number(process.versions.node.split('.')[0]);
  const depends = field('Depends');
  assert.ok(depends.includes(`nodejs (>= ${major})`) && depends.includes(`nodejs (<< ${major + 1})`), depends);
  assert.match(depends, /\badduser\b/);
  assert.deepEqual(readFileSync(join(control, 'conffiles'), 'utf8').trim().split('\n').sort(), ['/etc/wasmgate/gateway.yaml', '/etc/wasmgate/pipelines/example.yaml']);
  for (const conffile of ['etc/wasmgate/gateway.yaml', 'etc/wasmgate/pipelines/example.yaml']) assert.ok(existsSync(join(root, conffile)), conffile);
});

/** The ELF machine of a shared object (e_machine, bytes 18-19, little-endian on every target here). */
function elfMachine(file: string): number {
  const head = readFileSync(file).subarray(0, 20);
  assert.equal(head.subarray(0, 4).toString('latin1'), '\x7fELF', `${file} is not ELF`);
  return head.readUInt16LE(18);
}
const EM_FOR_ARCH: Record<string, number> = { x64: 62, arm64: 183, arm: 40 };

test('files: the program, every built plugin, production modules only (native ones for this CPU), the unit as in the repository, the CLI on the PATH', tools, () => {
  for (const file of ['bin/wasmgate.js', 'dist/src/host/cli/main.js', 'dist/src/host/pipeline/worker-main.js', 'package.json']) {
    assert.ok(existsSync(join(lib(), file)), file);
  }
  // The bundled host: every entry (src/host/host-bundle/entries.ts) and what it loads beside it.
  for (const file of [...Object.keys(BUNDLE_ENTRIES).map((name) => `${name}.js`), ...BUNDLE_COPIED.map((f) => f.split('/').pop()!)]) {
    assert.deepEqual(readFileSync(join(lib(), BUNDLE_DIR, file)), readFileSync(join(REPO_ROOT, BUNDLE_DIR, file)), `${BUNDLE_DIR}/${file}`);
  }
  // The editor schemas the installed configuration's modelines name.
  for (const file of ['gateway.schema.json', 'pipeline.schema.json']) {
    assert.deepEqual(readFileSync(join(lib(), 'schemas', file)), readFileSync(join(REPO_ROOT, 'schemas', file)), file);
  }
  assert.match(readFileSync(join(root, 'etc/wasmgate/gateway.yaml'), 'utf8'), /^# yaml-language-server: \$schema=\/usr\/lib\/wasmgate\/schemas\/gateway\.schema\.json\n/);
  const plugins = readdirSync(join(REPO_ROOT, 'plugins')).filter((p) => existsSync(join(REPO_ROOT, 'plugins', p, 'plugin.yaml')));
  assert.ok(plugins.length >= 7);
  for (const p of plugins) {
    const wasm = readdirSync(join(REPO_ROOT, 'plugins', p, 'build')).filter((f) => f.endsWith('.wasm'));
    for (const w of wasm) assert.deepEqual(readFileSync(join(lib(), 'plugins', p, 'build', w)), readFileSync(join(REPO_ROOT, 'plugins', p, 'build', w)), `${p}/${w}`);
    assert.ok(existsSync(join(lib(), 'plugins', p, 'plugin.yaml')));
  }
  const modules = join(lib(), 'node_modules');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(modules, dep, 'package.json')), `dependency ${dep}`);
  // What npm's lockfile marks dev-only (needed by no production dependency) is not shipped.
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => p.dev === true && path.startsWith('node_modules/')).map(([path]) => path);
  assert.ok(devOnly.includes('node_modules/typescript') && devOnly.includes('node_modules/assemblyscript'));
  for (const path of devOnly) assert.ok(!existsSync(join(lib(), path)), `dev-only ${path} shipped`);
  for (const native of ['better-sqlite3/build/Release/better_sqlite3.node', 'unix-dgram/build/Release/unix_dgram.node']) {
    assert.equal(elfMachine(join(modules, native)), EM_FOR_ARCH[process.arch], `${native} is not built for ${process.arch}`);
  }
  assert.deepEqual(readFileSync(join(root, 'usr/lib/systemd/system/wasmgate.service'), 'utf8'), readFileSync(join(REPO_ROOT, 'systemd/wasmgate.service'), 'utf8'));
  const cli = join(root, 'usr/bin/wasmgate');
  assert.ok(lstatSync(cli).isSymbolicLink());
  assert.equal(readlinkSync(cli), '../lib/wasmgate/bin/wasmgate.js');
  assert.ok(statSync(join(lib(), 'bin/wasmgate.js')).mode & 0o111, 'the CLI is executable');
  assert.ok(existsSync(join(root, 'usr/share/doc/wasmgate/service.md')), 'the unit\'s Documentation= target');
});

test('the installed CLI runs the bundled host, and checks the shipped configuration with it', tools, async () => {
  const recorder = await loadRecorderArgs(tmp);
  const env = { ...process.env, NODE_PATH: '', WASMGATE_HOST: undefined };
  const r = spawnSync(process.execPath, [...recorder, join(lib(), 'bin/wasmgate.js'), 'validate', '--config', join(root, 'etc/wasmgate/gateway.yaml')], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const files = loadsUnder(lib(), r.stderr).map((l) => l.file);
  assert.ok(files.includes(`${BUNDLE_DIR}/main.js`), files.join('\n'));
  assert.deepEqual(files.filter((f) => f.startsWith('dist/src/')), [], 'nothing of tsc\'s output runs');
});

const shellcheck = findTool('shellcheck');

test('maintainer scripts pass shellcheck', needs('shellcheck', shellcheck !== undefined && dpkgDeb !== undefined), () => {
  const scripts = ['postinst', 'prerm', 'postrm'].map((s) => join(control, s));
  for (const s of scripts) assert.ok(statSync(s).mode & 0o100, `${s} is executable`);
  run(shellcheck!, ['-s', 'sh', ...scripts]);
});

/**
 * Runs a maintainer script against the scratch root (DPKG_ROOT, as dpkg sets it for an install into
 * another root) with stand-ins for adduser, deluser, delgroup, getent, chown and install -o that only
 * record their arguments: they would change this machine's users. `userExists` is what getent says.
 */
function maintainerScript(script: string, args: string[], userExists: boolean): string[] {
  const stubs = join(tmp, 'stubs');
  const log = join(tmp, 'stub.log');
  mkdirSync(stubs, { recursive: true });
  writeFileSync(log, '');
  for (const name of ['adduser', 'deluser', 'delgroup', 'chown', 'systemctl']) {
    writeFileSync(join(stubs, name), `#!/bin/sh\necho "${name} $*" >>"${log}"\n`);
  }
  writeFileSync(join(stubs, 'getent'), `#!/bin/sh\necho "getent $*" >>"${log}"\n${userExists ? 'echo "$2:x:999:999::/var/lib/wasmgate:/usr/sbin/nologin"' : 'exit 2'}\n`);
  // install -d -o wasmgate: the directory is made, the owner recorded.
  writeFileSync(join(stubs, 'install'), `#!/bin/sh\necho "install $*" >>"${log}"\nfor last; do :; done\nmkdir -p "$last"\n`);
  for (const name of readdirSync(stubs)) chmodSync(join(stubs, name), 0o755);
  run('sh', [join(control, script), ...args], { env: { PATH: `${stubs}:/usr/bin:/bin`, DPKG_ROOT: root } });
  return readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.length > 0);
}

test('postinst makes the system user in dialout, the state directory and config permissions once; postrm keeps the data on remove and removes data and user on purge only', tools, () => {
  const first = maintainerScript('postinst', ['configure', ''], false);
  assert.ok(first.includes('adduser --system --group --home /var/lib/wasmgate --no-create-home wasmgate'), first.join('\n'));
  assert.ok(first.includes('adduser --quiet wasmgate dialout'));
  assert.ok(first.includes(`chown -R root:wasmgate ${root}/etc/wasmgate`));
  assert.equal(statSync(join(root, 'etc/wasmgate/gateway.yaml')).mode & 0o777, 0o640, 'the gateway file is not world-readable');
  assert.ok(first.includes(`install -d -o wasmgate -g wasmgate -m 0700 ${root}/var/lib/wasmgate`));
  assert.ok(existsSync(join(root, 'var/lib/wasmgate')));

  // An upgrade: the user exists, the administrator's permissions stay.
  chmodSync(join(root, 'etc/wasmgate/gateway.yaml'), 0o600);
  const upgrade = maintainerScript('postinst', ['configure', '0.0.9'], true);
  assert.ok(!upgrade.some((l) => l.startsWith('adduser --system')), upgrade.join('\n'));
  assert.ok(!upgrade.some((l) => l.startsWith('chown')));
  assert.equal(statSync(join(root, 'etc/wasmgate/gateway.yaml')).mode & 0o777, 0o600);

  writeFileSync(join(root, 'var/lib/wasmgate/outbox.db'), 'undelivered readings');
  const removed = maintainerScript('postrm', ['remove'], true);
  assert.ok(existsSync(join(root, 'var/lib/wasmgate/outbox.db')), 'remove keeps the outbox');
  assert.ok(existsSync(join(root, 'etc/wasmgate/gateway.yaml')), 'remove keeps the configuration');
  assert.ok(!removed.some((l) => l.startsWith('deluser') || l.startsWith('delgroup')), removed.join('\n'));

  const purged = maintainerScript('postrm', ['purge'], true);
  assert.ok(!existsSync(join(root, 'var/lib/wasmgate')), 'purge removes the state directory');
  assert.ok(!existsSync(join(root, 'etc/wasmgate')), 'purge removes the configuration directory');
  assert.ok(purged.includes('deluser --quiet --system wasmgate'), purged.join('\n'));
  assert.ok(purged.includes('delgroup --quiet --system wasmgate'));
  // Put the configuration back for the tests below.
  run(dpkgDeb!, ['-x', deb, root]);
});

const analyze = findTool('systemd-analyze');

test('systemd-analyze verify accepts the installed unit (paths moved into the scratch root)', needs('systemd-analyze', analyze !== undefined && dpkgDeb !== undefined), () => {
  const unit = readFileSync(join(root, 'usr/lib/systemd/system/wasmgate.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/node (--[a-z-]+(=\d+)? )+\/usr\/lib\/wasmgate\/bin\/wasmgate\.js run --config \/etc\/wasmgate\/gateway\.yaml$/m);
  const dir = join(tmp, 'units');
  mkdirSync(dir, { recursive: true });
  const moved = unit.replaceAll('/usr/lib/wasmgate/', `${lib()}/`).replaceAll('/etc/wasmgate', join(root, 'etc/wasmgate'));
  writeFileSync(join(dir, 'wasmgate.service'), moved);
  const r = spawnSync(analyze!, ['verify', join(dir, 'wasmgate.service')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /wasmgate\.service/, `verify complained:\n${r.stderr}`);
});

test('the installed daemon, from the unpacked tree with its shipped configuration, publishes a PLC reading to a broker', needs('dpkg-deb and python3', dpkgDeb !== undefined && notifyPython() !== undefined), async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [4242] } } });
  t.after(() => plc.close());
  const gatewayFile = join(root, 'etc/wasmgate/gateway.yaml');
  const pipelineFile = join(root, 'etc/wasmgate/pipelines/example.yaml');
  const port = new URL(broker.url).port;
  const gateway = readFileSync(gatewayFile, 'utf8');
  assert.match(gateway, /url: mqtt:\/\/127\.0\.0\.1:1883/);
  writeFileSync(gatewayFile, gateway.replace('mqtt://127.0.0.1:1883', `mqtt://127.0.0.1:${port}`));
  const pipeline = readFileSync(pipelineFile, 'utf8');
  assert.match(pipeline, /port: 502\n/);
  writeFileSync(pipelineFile, pipeline.replace('port: 502\n', `port: ${plc.port}\n`));
  const state = join(root, 'var/lib/wasmgate');
  const runtime = join(root, 'run/wasmgate');
  mkdirSync(state, { recursive: true });
  mkdirSync(runtime, { recursive: true });
  const listener = await startNotifyListener(tmp);
  t.after(() => listener.close());
  const messages = await subscribe(broker.url, 'wasmgate/gateway-01/example/level', { qos: 1 });
  t.after(() => messages.close());
  // As the unit runs it: the state and runtime directories and the notify socket from systemd.
  const env = { STATE_DIRECTORY: state, RUNTIME_DIRECTORY: runtime, NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: '2000000', NODE_PATH: '' };
  const daemon = startGatewayProcess(gatewayFile, env, join(lib(), 'bin/wasmgate.js'));
  t.after(() => daemon.stop());
  await listener.waitFor('READY=1', 1, 30_000);
  const [message] = await messages.waitFor(1, 20_000);
  const reading = JSON.parse(message!.payload.toString()) as { point: string; value: number };
  assert.equal(reading.point, 'level');
  assert.equal(reading.value, 4242, 'the register value the PLC holds');
  assert.ok(existsSync(join(state, 'outbox.db')), 'the outbox in the state directory');
  // The CLI on the PATH (the /usr/bin symlink) finds the daemon through the runtime directory.
  const status = run(join(root, 'usr/bin/wasmgate'), ['status', '--json', '-c', gatewayFile], { env: { ...process.env, ...env } });
  assert.equal((JSON.parse(status) as { gateway: string }).gateway, 'gateway-01', status);
  assert.equal(await daemon.stop(), 0);
  await listener.waitFor('STOPPING=1', 1, 5_000);
});
