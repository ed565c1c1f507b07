/**
 * The unit's sandbox where it could break the gateway, tested without systemd as PID 1 (these machines
 * do not boot systemd, so `systemd-run` cannot apply a unit here):
 * - the system-call and address-family filters of systemd/wasmgate.service, built from the unit file as
 *   systemd builds them (test/support/seccomp_exec.py: this systemd's own group definitions, one
 *   seccomp filter per setting), around the real daemon polling a real PLC and publishing to a real
 *   broker; and checks that the filters do refuse what the unit leaves out;
 * - MemoryDenyWriteExecute=yes, which the unit does not set: what V8 does under it;
 * - PrivateUsers=yes with serial ports: the kernel behaviour the unit relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { gatewayYaml } from '../support/gateway-fixture.js';
import { pipelineYaml } from '../support/hostile-gateway.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { REPO_ROOT } from '../support/plugins.js';
import { findTool, needs } from '../support/tools.js';

const UNIT = join(REPO_ROOT, 'systemd/wasmgate.service');
const SECCOMP_EXEC = join(REPO_ROOT, 'test/support/seccomp_exec.py');
const PYTHON = '/usr/bin/python3';
const hasSeccomp = spawnSync(PYTHON, ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0 && findTool('systemd-analyze') !== undefined;
const seccomp = needs('python3-seccomp and systemd-analyze', hasSeccomp);

/** `node -e script` under the unit's filters (and MemoryDenyWriteExecute's with `mdwe`). */
function nodeUnderFilter(script: string, options: { mdwe?: boolean; nodeArgs?: string[] } = {}) {
  const args = [SECCOMP_EXEC, UNIT, ...(options.mdwe ? ['--mdwe'] : []), '--', process.execPath, ...(options.nodeArgs ?? []), '-e', script];
  return spawnSync(PYTHON, args, { encoding: 'utf8' });
}

test('under the unit\'s system-call and address-family filters the daemon polls, publishes and stops with 0', seccomp, async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1234] } } });
  t.after(() => plc.close());
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-sandbox-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(broker.url, 'gw-sandbox', { logLevel: 'info' }));
  await writeFile(join(dir, 'pipeline.yaml'), pipelineYaml('plant', plc.port, '  - plugin: modbus\n  - plugin: json'));
  const messages = await subscribe(broker.url, 't/plant/#', { qos: 0 });
  t.after(() => messages.close());
  const daemon = startGatewayProcess(join(dir, 'gateway.yaml'), {}, undefined, [PYTHON, SECCOMP_EXEC, UNIT, '--']);
  t.after(() => daemon.stop());
  const [message] = await messages.waitFor(1, 30_000);
  assert.equal((JSON.parse(message!.payload.toString()) as { value: number }).value, 1234);
  assert.equal(await daemon.stop(), 0);
  assert.ok(daemon.lines.some((l) => l.includes('gateway stopped')));
});

test('the filters refuse what the unit leaves out: setgroups (@privileged) with EPERM, a netlink socket with EAFNOSUPPORT; a name lookup with AI_ADDRCONFIG still answers', seccomp, () => {
  const probe = `
    const out = {};
    try { process.setgroups([0]); out.setgroups = 'allowed'; } catch (e) { out.setgroups = e.code; }
    try { require('os').networkInterfaces(); out.netlink = 'allowed'; } catch (e) { out.netlink = /error 97/.test(e.message) ? 'EAFNOSUPPORT' : e.message; }
    // What net.connect asks for a host name: glibc tries netlink for AI_ADDRCONFIG, and answers without it.
    const dns = require('dns');
    dns.lookup('localhost', { hints: dns.ADDRCONFIG, all: true }, (err, addresses) => {
      out.lookup = err ? err.code : addresses;
      console.log(JSON.stringify(out));
    });`;
  const outside = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  const free = JSON.parse(outside.stdout) as { setgroups: string; netlink: string; lookup: unknown };
  assert.deepEqual({ setgroups: free.setgroups, netlink: free.netlink }, { setgroups: 'allowed', netlink: 'allowed' }, 'outside the filter both work (tests run as root)');
  assert.ok(Array.isArray(free.lookup) && free.lookup.length > 0, JSON.stringify(free.lookup));
  const inside = nodeUnderFilter(probe);
  assert.equal(inside.status, 0, inside.stderr);
  assert.deepEqual(JSON.parse(inside.stdout), { setgroups: 'EPERM', netlink: 'EAFNOSUPPORT', lookup: free.lookup });
});

test('MemoryDenyWriteExecute would stop V8 at its first compiled function; --jitless survives it only without WebAssembly', seccomp, () => {
  const plain = nodeUnderFilter('console.log(typeof WebAssembly)');
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), 'object');
  const mdwe = nodeUnderFilter('let s = 0; for (let i = 0; i < 1e6; i++) s += i; console.log(s)', { mdwe: true });
  assert.notEqual(mdwe.status, 0, 'node ran under MemoryDenyWriteExecute');
  assert.match(mdwe.stderr, /SetPermissions|Fatal error/, mdwe.stderr.slice(0, 2000));
  const jitless = nodeUnderFilter('console.log(typeof WebAssembly)', { mdwe: true, nodeArgs: ['--jitless'] });
  assert.equal(jitless.status, 0, jitless.stderr);
  assert.equal(jitless.stdout.trim(), 'undefined', 'no WebAssembly, so no plugins');
});

const setpriv = findTool('setpriv');
const unshare = findTool('unshare');

test('PrivateUsers=yes keeps the serial ports: in a user namespace that maps no dialout a root:dialout 0660 file still opens through real dialout membership', needs('setpriv and unshare', setpriv !== undefined && unshare !== undefined && process.getuid?.() === 0), async (t) => {
  // A stand-in for /dev/ttyUSB0 (root:dialout, 0660): the permission check is the same for any inode.
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-userns-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const port = join(dir, 'ttyUSB0');
  await writeFile(port, 'frame');
  const dialout = Number(spawnSync('getent', ['group', 'dialout'], { encoding: 'utf8' }).stdout.split(':')[2]);
  assert.ok(Number.isInteger(dialout), 'a dialout group');
  await chown(port, 0, dialout);
  await chmod(port, 0o660);
  // systemd sets the user's groups, then makes the namespace (PrivateUsers=) mapping only root and the user.
  const open = (groups: string[]) => spawnSync(setpriv!, ['--reuid', 'nobody', '--regid', 'nogroup', ...groups, '--', unshare!, '--user', 'sh', '-c', `cat /proc/self/gid_map | wc -l; id -G; cat ${port}`], { encoding: 'utf8' });
  const member = open(['--groups', 'dialout']);
  if (member.status !== 0 && /unshare failed|Operation not permitted/.test(member.stderr)) return t.skip(`user namespaces are not available here: ${member.stderr.trim()}`);
  assert.equal(member.status, 0, member.stderr);
  const [mapped, groups, content] = member.stdout.trim().split('\n');
  assert.equal(mapped, '0', 'no group is mapped in the namespace');
  assert.ok(!groups!.split(' ').includes(String(dialout)), `dialout is not visible as itself in the namespace (${groups})`);
  assert.equal(content, 'frame', 'the port opened');
  const stranger = open(['--clear-groups']);
  assert.notEqual(stranger.status, 0, 'without dialout the port must not open');
  assert.match(stranger.stderr, /Permission denied/);
});
