/**
 * Debian's mosquitto as a test peer: a generated config in a temp dir, a free loopback port, an
 * optional password file made with mosquitto_passwd, an optional ACL file, an optional second listener
 * with TLS (and client certificates required, the certificate's CN taken as the user name), and
 * persistence on so that a stop/start keeps persistent sessions the way a real broker restart does.
 * Its log (`log_type all`) is kept: it says how each client connected, as the broker saw it
 * (`New client connected from ... as ID (p5, c0, k30, u'name')`: protocol, p2 for 3.1.1 and p5 for 5,
 * clean flag, keep-alive, user).
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
const LOG_KEPT = 256_000;

export interface MosquittoOptions extends TestBrokerOptions {
  /** A second listener, TLS, with these PEM files (paths). */
  readonly tls?: {
    readonly ca: string;
    readonly cert: string;
    readonly key: string;
    /** Refuse a client without a certificate the CA signed; the certificate's CN becomes the user name. */
    readonly requireCertificate?: boolean;
  };
  /** Lines of an ACL file (mosquitto.conf(5) acl_file), for every listener. */
  readonly acl?: readonly string[];
  /** mosquitto.conf(5) max_packet_size: larger packets get the client disconnected (MQTT 5 clients are told it in CONNACK). */
  readonly maxPacketSize?: number;
  /**
   * No throttling of QoS 1 towards subscribers and no silent drops from their queues
   * (`max_inflight_messages 0`, `max_queued_messages 0`), as the peer harness runs it: a shortfall
   * at the subscriber is then the publisher's. And `set_tcp_nodelay true`, as a broker tuned for
   * latency runs (docs/delivery.md, "Broker settings"); the peer harness's broker does not set it.
   */
  readonly unthrottled?: boolean;
  /** mosquitto.conf(5) max_inflight_messages, which an MQTT 5 client is told as the CONNACK's Receive Maximum. */
  readonly maxInflightMessages?: number;
}

export interface MosquittoBroker extends TestBroker {
  /** With `tls`: the TLS listener's port and `mqtts://127.0.0.1:<port>`. */
  readonly tlsPort: number | undefined;
  readonly tlsUrl: string | undefined;
  /** What mosquitto logged so far (the last 256 kB). */
  log(): string;
  /**
   * Resolves with the first match of `pattern` in the log once mosquitto has written it: its log comes
   * through a pipe, after the client it tells of already saw the CONNACK, so read it by waiting.
   */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

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

export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = mosquittoPath();
  if (!binary) throw new Error('mosquitto not installed');
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-mosquitto-'));
  const users = Object.entries(options.users ?? {});
  const passwordFile = join(dir, 'passwd');
  users.forEach(([user, password], i) => {
    const args = i === 0 ? ['-c', '-b', passwordFile, user, password] : ['-b', passwordFile, user, password];
    execFileSync(findTool('mosquitto_passwd') ?? 'mosquitto_passwd', args, { stdio: 'ignore' });
  });

  const aclFile = join(dir, 'acl');
  if (options.acl) writeFileSync(aclFile, options.acl.join('\n') + '\n');

  let port = 0;
  let tlsPort = 0;
  let child: ChildProcess | undefined;
  let log = '';

  const writeConfig = (): string => {
    // Each listener carries its own authentication settings (per_listener_settings), so a listener
    // that takes the user name from the client certificate needs no password file.
    const authentication = (byCertificate: boolean) => [
      `allow_anonymous ${users.length === 0 && !byCertificate}`,
      ...(users.length > 0 && !byCertificate ? [`password_file ${passwordFile}`] : []),
      ...(options.acl ? [`acl_file ${aclFile}`] : []),
    ];
    const tls = options.tls;
    const lines = [
      'per_listener_settings true',
      `listener ${port} 127.0.0.1`,
      ...authentication(false),
      ...(tls ? [
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${tls.ca}`,
        `certfile ${tls.cert}`,
        `keyfile ${tls.key}`,
        ...(tls.requireCertificate ? ['require_certificate true', 'use_identity_as_username true'] : []),
        ...authentication(tls.requireCertificate ?? false),
      ] : []),
      ...(options.maxPacketSize !== undefined ? [`max_packet_size ${options.maxPacketSize}`] : []),
      // set_tcp_nodelay: mosquitto's default leaves Nagle on, and a PUBACK written behind another waits
      // for the peer's delayed ACK: hand-over → PUBACK was 11 ms at 1 k/s with it, 1.1 ms without.
      ...(options.unthrottled ? ['max_inflight_messages 0', 'max_queued_messages 0', 'set_tcp_nodelay true'] : []),
      ...(options.maxInflightMessages !== undefined ? [`max_inflight_messages ${options.maxInflightMessages}`] : []),
      'persistence true',
      `persistence_location ${dir}/`,
      // mosquitto drops root privileges to this user; keep ours so it can read its temp dir
      `user ${userInfo().username}`,
      'log_dest stderr',
      ...(options.quiet ? ['log_type error', 'log_type warning'] : ['log_type all']),
    ];
    const file = join(dir, 'mosquitto.conf');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', writeConfig()], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-LOG_KEPT);
    });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!(await accepts(port)) || (options.tls !== undefined && !(await accepts(tlsPort)))) {
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
    while (options.tls && (tlsPort === 0 || tlsPort === port)) tlsPort = await freePort();
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
    tlsPort: options.tls ? tlsPort : undefined,
    tlsUrl: options.tls ? `mqtts://127.0.0.1:${tlsPort}` : undefined,
    log: () => log,
    async waitForLog(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(log);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`mosquitto logged no ${String(pattern)} within ${timeoutMs} ms; its log ends: ${log.slice(-1_000)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    stop,
    start: launch,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
