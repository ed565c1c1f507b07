/**
 * Debian's libcoap3-bin `coap-server` (the libcoap example server, not our code) on 127.0.0.1 and a
 * free UDP port, with dynamic resources: a PUT creates the resource, a GET (libcoap's `coap-client`)
 * reads it back. At verbosity 7 it logs every PDU it receives and sends, which the tests read for
 * what went over the wire (Block1 options, retransmissions). `loss` makes it drop that share of the
 * datagrams it sends (`-l 20%`).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

const SERVER = '/usr/bin/coap-server-notls';
const CLIENT = '/usr/bin/coap-client-notls';

export function findLibcoap(): boolean {
  return spawnSync(SERVER, ['-h']).error === undefined && spawnSync(CLIENT, ['-h']).error === undefined;
}

export interface LibcoapServer {
  readonly port: number;
  /** Everything it logged so far. */
  log(): string;
  /** GET of `path` by coap-client (`/ingest/m/1`): the resource's payload, or undefined when it is not there (4.04). */
  get(path: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

export async function startLibcoapServer(options: { loss?: string; maxResources?: number } = {}): Promise<LibcoapServer> {
  const port = await freeUdpPort();
  const args = ['-A', '127.0.0.1', '-p', String(port), '-d', String(options.maxResources ?? 1000), '-v', '7', ...(options.loss ? ['-l', options.loss] : [])];
  const child: ChildProcess = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  // It logs nothing when ready; a GET that gets an answer (4.04 for a missing resource) says it is.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = await run(['-m', 'get', '-B', '1', `coap://127.0.0.1:${port}/.well-known/core`]);
    if (probe.stdout.length > 0) break;
    if (Date.now() > deadline) throw new Error(`coap-server did not answer on port ${port}: ${text.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    log: () => text,
    get: async (path) => {
      const out = await run(['-m', 'get', '-B', '10', `coap://127.0.0.1:${port}${path}`]);
      return out.stdout.startsWith('4.04') ? undefined : out.stdout.replace(/\n$/, '');
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function run(args: string[]): Promise<{ stdout: string }> {
  return new Promise((resolve) => execFile(CLIENT, args, { timeout: 60_000 }, (_err, stdout) => resolve({ stdout: String(stdout) })));
}
