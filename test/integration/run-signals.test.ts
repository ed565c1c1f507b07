/**
 * `wasmgate run` as systemd runs it, a child process, against a modbus-serial PLC and an MQTT broker,
 * receiving signals. What broke: SIGHUP, SIGQUIT, SIGUSR2 and a second SIGTERM ended the process at
 * once, so the half-full bucket of a resample step never reached the broker; SIGUSR1 opened the Node
 * inspector on 127.0.0.1:9229 of a production daemon.
 *
 * The pipeline resamples `slow` over a day (its bucket cannot close during the test, only be flushed
 * at stop) and passes `tick` through raw, so each raw `tick` message proves one more poll went into
 * the open bucket of `slow`. The broker is aedes, embedded here so the test can hold back the
 * flushed bucket's publish: the gateway is then provably still draining when the second SIGTERM comes.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { REPO_ROOT } from '../support/plugins.js';
import { daemonCommand } from '../support/gateway-process.js';

const STEP_MS = 20_000;
const DAY_MS = 86_400_000;

/** An aedes broker whose publishes to `t/slow` wait for `release()` once `hold()` was called. */
async function startGatedBroker() {
  const held: Array<() => void> = [];
  let holding = false;
  const arrivals: Array<() => void> = [];
  const broker = await Aedes.createBroker({
    authorizePublish(_client, packet, callback) {
      if (!holding || packet.topic !== 't/slow') return callback(null);
      held.push(() => callback(null));
      for (const notify of arrivals.splice(0)) notify();
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => (holding = true),
    /** Resolves once a publish to t/slow is being held. */
    heldPublish: () => new Promise<void>((resolve) => (held.length > 0 ? resolve() : arrivals.push(resolve))),
    release: () => {
      holding = false;
      for (const publish of held.splice(0)) publish();
    },
    async dispose() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

interface RunningGateway {
  broker: Awaited<ReturnType<typeof startGatedBroker>>;
  child: ChildProcess;
  subscriber: TestSubscriber;
  /** Everything the child wrote, stdout and stderr. */
  output(): string;
  waitForOutput(pattern: RegExp): Promise<void>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  ticks(): number;
  slowBuckets(): Array<Record<string, unknown>>;
  dispose(): Promise<void>;
}

async function startGateway(runOptions: string[] = []): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-signals-'));
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7, 42] } } });
  const broker = await startGatedBroker();
  await writeFile(join(dir, 'gateway.yaml'), [
    'gateway: { id: gw-signals, log: { level: info, format: json } }',
    `uplinks: { cloud: { mqtt: { url: "${broker.url}", qos: 1 } } }`,
    'pipelines: [ ./pipeline.yaml ]',
  ].join('\n'));
  await writeFile(join(dir, 'pipeline.yaml'), [
    'pipeline: { name: p }',
    'source:',
    '  modbus_tcp:',
    '    devices:',
    `      - { name: plc, host: 127.0.0.1, port: ${plc.port}, interval: 100ms, timeout: 1s, points: [`,
    '          { name: slow, function: 3, address: 0, type: uint16 },',
    '          { name: tick, function: 3, address: 1, type: uint16 } ] }',
    'steps:',
    '  - plugin: modbus',
    `  - plugin: resample`,
    `    with: { bucket: ${DAY_MS}, aggregates: [count, mean], points: { tick: { aggregates: [] } } }`,
    '  - plugin: json',
    'publish: { uplink: cloud, topic: "t/{point}" }',
  ].join('\n'));
  const subscriber = await subscribe(broker.url, 't/#');
  // As the unit runs it (its flags on the command line): the pid is the daemon's own.
  const daemon = daemonCommand(join(dir, 'gateway.yaml'), undefined, runOptions);
  const child = spawn(daemon.argv[0]!, daemon.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: daemon.env });
  let output = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const w of [...waiters]) if (w.pattern.test(output)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const messages = () => subscriber.messages.map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
  return {
    broker,
    child,
    subscriber,
    output: () => output,
    exited,
    waitForOutput: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(output)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in the output within ${STEP_MS} ms:\n${output.slice(-3000)}`)), STEP_MS);
        waiters.push({ pattern, resolve: () => { clearTimeout(timer); resolve(); } });
      }),
    ticks: () => messages().filter((m) => m.topic === 't/tick').length,
    slowBuckets: () => messages().filter((m) => m.topic === 't/slow').map((m) => m.body),
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await subscriber.close();
      await broker.dispose();
      await plc.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** TCP ports process `pid` listens on (its socket inodes matched against the kernel's LISTEN table). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]!] : [];
      } catch {
        return [];
      }
    }),
  );
  const LISTEN = '0A';
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8').split('\n').slice(1).flatMap((line) => {
      const f = line.trim().split(/\s+/);
      return f.length > 9 && f[3] === LISTEN && inodes.has(f[9]!) ? [parseInt(f[1]!.split(':')[1]!, 16)] : [];
    }),
  );
}

async function ticksAtLeast(gw: RunningGateway, n: number): Promise<void> {
  await gw.subscriber.waitUntil(() => gw.ticks() >= n, `${n} raw tick messages`, STEP_MS);
}

test('SIGHUP reloads an unchanged file without touching the pipeline (its open bucket stays open), SIGUSR1 and SIGUSR2 are logged and ignored, no inspector opens, and two SIGTERMs still drain and flush the open bucket', async (t) => {
  const gw = await startGateway();
  t.after(() => gw.dispose());
  await ticksAtLeast(gw, 5);
  assert.equal(gw.slowBuckets().length, 0, 'the day bucket of slow is still open');

  gw.child.kill('SIGHUP');
  await gw.waitForOutput(/configuration reloaded/);
  assert.match(gw.output(), /"unchanged":\[[^\]]+\],"changed":\[\],"added":\[\],"removed":\[\]/);
  assert.equal(gw.slowBuckets().length, 0, 'the reload left the unchanged pipeline running: its day bucket was not flushed');
  for (const signal of ['SIGUSR1', 'SIGUSR2'] as const) {
    gw.child.kill(signal);
    await gw.waitForOutput(new RegExp(`${signal} ignored`));
  }
  // Still running and polling after all three: more ticks arrive.
  const before = gw.ticks();
  await ticksAtLeast(gw, before + 3);
  assert.equal(gw.child.exitCode, null);
  // The probe sees listeners: this test process holds the broker's.
  assert.ok(listeningPorts(process.pid).includes(Number(new URL(gw.broker.url).port)));
  assert.deepEqual(listeningPorts(gw.child.pid!), [], 'the gateway listens on no port: SIGUSR1 opened no inspector');

  const polledBeforeStop = gw.ticks();
  gw.broker.hold();
  gw.child.kill('SIGTERM');
  // The flushed bucket is on its way to the broker, held there: the gateway is draining.
  await gw.broker.heldPublish();
  gw.child.kill('SIGTERM');
  await gw.waitForOutput(/already stopping/);
  gw.broker.release();
  const [code, signal] = await gw.exited;
  assert.equal(signal, null, `not killed by a signal\n${gw.output().slice(-3000)}`);
  assert.equal(code, 0, gw.output().slice(-3000));
  assert.match(gw.output(), /gateway stopped/);

  // The flushed bucket, one message per aggregate: a count of at least the polls seen before the stop,
  // and the mean of the register's value.
  await gw.subscriber.waitUntil(() => gw.slowBuckets().length >= 2, 'the flushed bucket of slow (count and mean)', STEP_MS);
  const count = gw.slowBuckets().find((b) => 'count' in b)?.count;
  assert.ok(Number(count) >= polledBeforeStop, `count ${String(count)} covers the ${polledBeforeStop} polls seen before the stop`);
  assert.equal(gw.slowBuckets().find((b) => 'mean' in b)?.mean, 7);
});

test('SIGQUIT stops the gateway like SIGTERM: the open bucket is flushed and the exit code is 0', async (t) => {
  const gw = await startGateway();
  t.after(() => gw.dispose());
  await ticksAtLeast(gw, 3);
  gw.child.kill('SIGQUIT');
  const [code, signal] = await gw.exited;
  assert.equal(signal, null, gw.output().slice(-3000));
  assert.equal(code, 0, gw.output().slice(-3000));
  await gw.subscriber.waitUntil(() => gw.slowBuckets().some((b) => 'count' in b), 'the flushed count of slow', STEP_MS);
  assert.ok(Number(gw.slowBuckets().find((b) => 'count' in b)!.count) >= 3);
});

test('a drain that cannot finish ends at the stop deadline with exit code 1 and says so', async (t) => {
  // The broker never acknowledges the flushed bucket: the uplink would wait 5 s for it, past the 1 s deadline.
  const gw = await startGateway(['--stop-timeout', '1s']);
  t.after(() => gw.dispose());
  await ticksAtLeast(gw, 3);
  gw.broker.hold();
  gw.child.kill('SIGTERM');
  await gw.broker.heldPublish();
  const [code, signal] = await gw.exited;
  assert.equal(signal, null, gw.output().slice(-3000));
  assert.equal(code, 1, gw.output().slice(-3000));
  assert.match(gw.output(), /"deadlineMs":1000,"msg":"stop deadline passed before the pipelines drained/);
  assert.doesNotMatch(gw.output(), /gateway stopped/);
});
