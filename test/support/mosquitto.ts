/**
 * Debian's mosquitto as a test peer: a generated config in a temp dir, a free loopback port, an
 * optional password file made with mosquitto_passwd, and persistence on so that a stop/start keeps
 * persistent sessions the way a real broker restart does.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findTool } from './tools.js';
import type { TestBroker, TestBrokerOptions } from './test-broker.js';

const READY_WITHIN_MS = 10_000;

export function mosquittoPath(): string | undefined {
  return findTool('mosquitto', ['/usr/sbin/mosquitto']);
}

/** A loopback port free right now (mosquitto cannot bind port 0 and report it back). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const binary = mosquittoPath();
  if (!binary) throw new Error('mosquitto not installed');
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-mosquitto-'));
  const users = Object.entries(options.users ?? {});
  const passwordFile = join(dir, 'passwd');
  users.forEach(([user, password], i) => {
    const args = i === 0 ? ['-c', '-b', passwordFile, user, password] : ['-b', passwordFile, user, password];
    execFileSync(findTool('mosquitto_passwd') ?? 'mosquitto_passwd', args, { stdio: 'ignore' });
  });

  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';

  const writeConfig = (): string => {
    const lines = [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${users.length === 0}`,
      ...(users.length > 0 ? [`password_file ${passwordFile}`] : []),
      'persistence true',
      `persistence_location ${dir}/`,
      // mosquitto drops root privileges to this user; keep ours so it can read its temp dir
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type all',
    ];
    const file = join(dir, 'mosquitto.conf');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', writeConfig()], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8_000);
    });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!(await accepts(port))) {
      if (exited) throw new Error(`mosquitto exited before accepting connections on ${port}:\n${log}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${port}:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM'); // mosquitto writes its persistence file on SIGTERM
    await exited;
  };

  // Another process may take the port between freePort() and mosquitto's bind; try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await stop();
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    kind: 'mosquitto',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    start: launch,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
