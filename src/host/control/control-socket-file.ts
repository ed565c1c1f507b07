/**
 * The control socket's file: claiming its path at start (a socket left by a killed daemon is removed
 * and reused; one a live daemon serves is refused), binding it owner-only, and removing it at stop only
 * while it is still ours.
 *
 * Permissions: anyone who can open the socket can ask the daemon anything it serves, later writes to
 * field devices included, so the file is 0600 from the moment it exists. The umask is set to 0177
 * around the bind instead of binding in a private directory and renaming: Node binds synchronously
 * inside `listen()` (test/integration/control-server.test.ts checks it), so no other JavaScript runs
 * in the window, and a bind in place keeps the kernel's own refusal (EADDRINUSE) as the lock between
 * two daemons starting together, which a rename over the path would lose. The claim runs before the
 * gateway starts, so no file of the daemon's own is being created meanwhile either. The mode is
 * checked after the bind anyway.
 */
import { connect, type Server } from 'node:net';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WgError } from '../errors.js';

/**
 * Longest socket path in bytes: `sun_path` of Linux's `sockaddr_un` holds 108 bytes with the
 * terminating NUL. Node does not refuse a longer one: it cuts it, and listens somewhere else.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/** How long a socket file found at start may take to answer before it is taken to be a live daemon's. */
const PROBE_TIMEOUT_MS = 1000;

/** Identity of a file, to tell ours from one that replaced it. */
export interface SocketFileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Makes `path` free for a bind, or throws why it is not. Creates its directory (0700) when missing. */
export async function claimSocketPath(path: string): Promise<void> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: `the path is ${bytes} bytes; a Unix socket path has at most ${MAX_SOCKET_PATH_BYTES}` });
  }
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: `cannot create its directory: ${(err as Error).message}` }, { cause: err });
  }
  const found = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: err.message }, { cause: err });
  });
  if (found === undefined) return;
  if (!found.isSocket()) {
    throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: 'a file that is not a socket is in its place; it is left alone: remove it, or set control.socket to another path' });
  }
  const probe = await probeSocket(path);
  if (probe.live) throw new WgError('WG_ERR_CONTROL_SOCKET_IN_USE', { socket: path, other: probe.who });
  // Nobody listens: a daemon that was killed left it. Reused.
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: `cannot remove the stale socket file: ${err.message}` }, { cause: err });
  });
}

/**
 * Whether a daemon answers on `path`, and who it says it is (its `hello`), for the message that refuses
 * the second daemon. Only a refused connection counts as stale: a socket that accepts but stays silent
 * may be a live daemon that is busy, and is never taken from it.
 */
function probeSocket(path: string): Promise<{ live: false } | { live: true; who: string }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let answer = '';
    let connected = false;
    const done = (result: { live: false } | { live: true; who: string }): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ live: true, who: connected ? ' (it accepted a connection but did not answer hello)' : '' }), PROBE_TIMEOUT_MS);
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ id: 0, op: 'hello' })}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      const nl = answer.indexOf('\n');
      if (nl < 0 && answer.length < 4096) return;
      done({ live: true, who: describeOther(answer.slice(0, nl < 0 ? undefined : nl)) });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) return done({ live: true, who: '' });
      // ECONNREFUSED: a socket file nobody listens on. ENOENT: it went away meanwhile; free as well.
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? { live: false } : { live: true, who: ` (connecting failed: ${err.code ?? err.message})` });
    });
  });
}

function describeOther(line: string): string {
  try {
    const response = JSON.parse(line) as { result?: { gateway?: unknown; pid?: unknown } };
    const { gateway, pid } = response.result ?? {};
    if (typeof pid === 'number') return ` (pid ${pid}${typeof gateway === 'string' ? `, gateway ${gateway}` : ''})`;
  } catch {
    /* not ours, or not JSON: said as such */
  }
  return ' (it does not answer the wasmgate control protocol hello)';
}

/**
 * Binds `server` to `path` with mode 0600 (see the header) and resolves once it listens. Throws
 * WG_ERR_CONTROL_SOCKET_IN_USE when another daemon bound it first since the claim.
 */
export async function bindOwnerOnly(server: Server, path: string): Promise<SocketFileIdentity> {
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      server.off('listening', listening);
      reject(err.code === 'EADDRINUSE'
        ? new WgError('WG_ERR_CONTROL_SOCKET_IN_USE', { socket: path, other: ' (bound while this one was starting)' }, { cause: err })
        : new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: err.message }, { cause: err }));
    };
    const listening = (): void => {
      server.off('error', failed);
      resolve();
    };
    server.once('error', failed);
    server.once('listening', listening);
    const previous = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(previous);
    }
  });
  const file = await lstat(path);
  if ((file.mode & 0o077) !== 0) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new WgError('WG_ERR_CONTROL_SOCKET_LISTEN', { socket: path, detail: `it was created with mode ${(file.mode & 0o777).toString(8)}, wider than 600; not served` });
  }
  return { dev: file.dev, ino: file.ino };
}

/** Removes the socket file at stop, unless it is gone or is no longer the one bound (`ours`). */
export async function releaseSocketPath(path: string, ours: SocketFileIdentity): Promise<void> {
  const now = await lstat(path).catch(() => undefined);
  if (now === undefined || now.dev !== ours.dev || now.ino !== ours.ino) return;
  await unlink(path).catch(() => undefined);
}
