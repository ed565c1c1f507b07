/**
 * What a watchdog ping costs the daemon, two ways (docs/service.md): spawning systemd-notify (what a
 * daemon without datagram sockets would do; it needs NotifyAccess=all) against one datagram sent from
 * the process with unix-dgram (what src/host/service/sd-notify.ts does). The receiving end is a real
 * AF_UNIX datagram socket bound by python3 (test/support/notify_listener.py), standing in for systemd.
 * The process holds 60 MiB of buffers first, so that fork costs what it costs a running gateway.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emitResult, printMachine } from './machine.js';

const SPAWNS = 50;
const SENDS = 200;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wasmgate-notify-bench-'));
const path = join(dir, 'notify.sock');
const listener = spawn('python3', [join(repo, 'test/support/notify_listener.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
let received = 0;
await new Promise<void>((resolve) => {
  createInterface({ input: listener.stdout! }).on('line', (line) => {
    if (line.includes('"listening"')) resolve();
    else received++;
  });
});

printMachine();
const ballast = Array.from({ length: 60 }, () => Buffer.alloc(1 << 20, 1));
const env = { ...process.env, NOTIFY_SOCKET: path };
let t = process.hrtime.bigint();
let cpu = process.cpuUsage();
for (let i = 0; i < SPAWNS; i++) spawnSync('systemd-notify', ['WATCHDOG=1'], { env });
const spawnMs = Number(process.hrtime.bigint() - t) / 1e6 / SPAWNS;
const spawnCpu = process.cpuUsage(cpu);
emitResult('systemd-notify spawned per ping: wall time', spawnMs, 'ms');
emitResult('systemd-notify spawned per ping: the daemon\'s own CPU (fork, wait)', (spawnCpu.user + spawnCpu.system) / 1e3 / SPAWNS, 'ms');

const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): { send(b: Buffer, o: number, l: number, p: string, cb: (e?: Error) => void): void; close(): void } };
const socket = unix.createSocket('unix_dgram');
const message = Buffer.from('WATCHDOG=1');
let sendNs = 0n;
let sendCpu = 0;
for (let i = 0; i < SENDS; i++) {
  t = process.hrtime.bigint();
  cpu = process.cpuUsage();
  socket.send(message, 0, message.length, path, () => undefined);
  const used = process.cpuUsage(cpu);
  sendNs += process.hrtime.bigint() - t;
  sendCpu += used.user + used.system;
  // One ping at a time, as the daemon sends them: the listener's queue (10 datagrams) never fills.
  await new Promise((resolve) => setTimeout(resolve, 1));
}
emitResult('unix-dgram datagram per ping: wall time', Number(sendNs) / 1e3 / SENDS, 'µs');
emitResult('unix-dgram datagram per ping: CPU', sendCpu / SENDS, 'µs');
emitResult('RSS of the measuring process', process.memoryUsage().rss / 2 ** 20, 'MiB');
await new Promise((resolve) => setTimeout(resolve, 200));
// systemd-notify sends its message and a BARRIER=1 datagram it waits on: two per spawn.
console.log(`datagrams received: ${received} (expected ${SPAWNS * 2 + SENDS})`);
socket.close();
listener.kill();
rmSync(dir, { recursive: true, force: true });
ballast.length = 0;
