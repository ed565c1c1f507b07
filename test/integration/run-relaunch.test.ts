/**
 * `wasmgate run` started by hand, without the daemon's memory flags (bin/daemon-runtime.js): it starts
 * itself again with them, against a real PLC simulator and broker. In place first (execve, native/
 * execve.c): the process started is the daemon, same pid, with the flags and the environment, so a
 * supervisor's or a harness's pid is the daemon's. Where that is not possible (WASMGATE_RELAUNCH=child
 * stands in for a machine where the addon did not build), as a child that gets the terminal and the
 * wrapper's signals. What is checked: the flags and the environment, a SIGTERM stops the daemon once
 * (one stop, no "already stopping"), the exit code comes back, and with a child a SIGKILL of the
 * wrapper ends the daemon too instead of leaving it running without anyone to stop it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { controlRequest } from '../../src/host/control/control-client.js';
import { DAEMON_RUNTIME } from '../support/gateway-process.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { REPO_ROOT } from '../support/plugins.js';
import { waitFor } from '../support/wait.js';

async function startByHand(t: TestContext, relaunch: 'in place' | 'child' = 'in place') {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [4242] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-relaunch', { logLevel: 'info' }), onePointPipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const messages = await subscribe(broker.url, 'plant/#', { qos: 0 });
  t.after(() => messages.close());
  // A shell's environment: none of the daemon's settings.
  const env = { ...process.env };
  for (const key of ['NODE_OPTIONS', 'WASMGATE_REEXEC', 'WASMGATE_PARENT_WATCH', 'WASMGATE_RELAUNCH', ...Object.keys(DAEMON_RUNTIME.DAEMON_ENV)]) delete env[key];
  if (relaunch === 'child') env.WASMGATE_RELAUNCH = 'child';
  const wrapper: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin/wasmgate.js'), 'run', '--config', fixture.gatewayFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  wrapper.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  wrapper.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = once(wrapper, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => { if (wrapper.exitCode === null && wrapper.signalCode === null) wrapper.kill('SIGKILL'); });
  await messages.waitFor(1, 30_000);
  const { result } = await controlRequest<{ pid: number }>(join(fixture.dir, 'data', 'control.sock'), 'status');
  const daemon = result.pid;
  t.after(() => { if (existsSync(`/proc/${daemon}`)) process.kill(daemon, 'SIGKILL'); });
  return { wrapper, daemon, exited, output: () => output };
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

function assertRuntime(daemon: number): void {
  const argv = readFileSync(`/proc/${daemon}/cmdline`, 'utf8').split('\0');
  for (const flag of DAEMON_RUNTIME.DAEMON_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
  const environ = readFileSync(`/proc/${daemon}/environ`, 'utf8').split('\0');
  for (const [key, value] of Object.entries(DAEMON_RUNTIME.DAEMON_ENV)) assert.ok(environ.includes(`${key}=${value}`), `${key}=${value} in the daemon's environment`);
}

function assertOneCleanStop(output: string): void {
  const events = output.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { event?: string }).event);
  assert.equal(events.filter((e) => e === 'gateway.stopping').length, 1, 'one stop');
  assert.equal(events.filter((e) => e === 'gateway.signal_ignored').length, 0, 'the signal arrived once');
  assert.ok(events.includes('gateway.stopped'), 'a clean stop');
}

test('run by hand: the process started becomes the daemon in place (same pid) with the memory flags and environment; SIGTERM stops it once, exit code 0', { timeout: 60_000 }, async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'build/Release/wasmgate_execve.node')), 'npm ci built the execve addon (binding.gyp)');
  const { wrapper, daemon, exited, output } = await startByHand(t);
  assert.equal(daemon, wrapper.pid, 'the pid started is the daemon');
  assertRuntime(daemon);
  wrapper.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, output());
  assertOneCleanStop(output());
});

test('run by hand without exec in place: the daemon is a child with the memory flags and environment; SIGTERM to the wrapper stops it once, exit code 0', { timeout: 60_000 }, async (t) => {
  const { wrapper, daemon, exited, output } = await startByHand(t, 'child');
  assert.notEqual(daemon, wrapper.pid, 'the daemon is a process of its own');
  assert.match(readFileSync(`/proc/${daemon}/status`, 'utf8'), new RegExp(`^PPid:\\s+${wrapper.pid}$`, 'm'), 'its parent is the wrapper');
  assertRuntime(daemon);
  wrapper.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, output());
  assert.ok(!alive(daemon), 'the daemon is gone');
  assertOneCleanStop(output());
});

test('run by hand without exec in place: a SIGKILL of the wrapper ends the daemon as well', { timeout: 60_000 }, async (t) => {
  const { wrapper, daemon, exited } = await startByHand(t, 'child');
  wrapper.kill('SIGKILL');
  await exited;
  await waitFor(() => !alive(daemon), 10_000, () => `daemon ${daemon} still runs after its wrapper was killed`);
});
