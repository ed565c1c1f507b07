/**
 * A serial line made of two pseudo-terminals joined by socat (`socat -d -d pty,raw,echo=0,link=A
 * pty,raw,echo=0,link=B`): what is written to one path is read from the other, through real tty
 * devices with termios, locks and hangups, so serialport opens them as it opens /dev/ttyUSB0.
 *
 * What a pty cannot show: baud rate, parity and stop bits are accepted and reported by termios but do
 * not pace or shape anything (bytes cross at memory speed); there is no line noise and no RS-485
 * direction switching. Stopping socat removes both devices and their paths, as unplugging a USB adapter
 * does, which is the one way a serial link is lost.
 *
 * Gate tests with `needs('socat', !!findSocat())`. Every pair started is stopped when the test process
 * exits, however it exits, and its directory removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from './tools.js';

const READY_WITHIN_MS = 5_000;
const STOP_WITHIN_MS = 5_000;

export interface PtyPair {
  /** Path of one end: the port the implementation under test opens (a symlink to /dev/pts/N). */
  readonly busPath: string;
  /** Path of the other end: where the peer (a server, a fixture, the test) sits. */
  readonly peerPath: string;
  /** Whether socat still runs (the two devices exist). */
  readonly running: boolean;
  /** Ends socat, so both devices and paths disappear; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface PtyPairOptions {
  /** Directory for the two links (default: a fresh temporary directory, removed on exit). */
  dir?: string;
  /** File names of the links in `dir` (default `bus` and `peer`). */
  busName?: string;
  peerName?: string;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export function findSocat(): string | undefined {
  return findTool('socat');
}

/** Starts socat; resolves once both paths exist and socat is moving bytes between them. */
export function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const socat = findSocat();
  if (!socat) return Promise.reject(new Error('socat not installed (gate the test with needs("socat", ...))'));
  let dir = options.dir;
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'wasmgate-pty-'));
    dirs.add(dir);
  }
  const busPath = join(dir, options.busName ?? 'bus');
  const peerPath = join(dir, options.peerName ?? 'peer');
  const child = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${busPath}`, `pty,raw,echo=0,link=${peerPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (live.delete(child), resolve())));
  let stderr = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(deadline);
      child.kill('SIGKILL');
      reject(new Error(`socat ${why}; stderr:\n${stderr}`));
    };
    const deadline = setTimeout(() => fail(`pty pair not ready within ${READY_WITHIN_MS} ms`), READY_WITHIN_MS);
    const early = (code: number | null): void => fail(`exited (${code}) before the pair was ready`);
    child.once('exit', early);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // socat creates both ptys and their links, then logs this line; the paths are checked anyway.
      if (!stderr.includes('starting data transfer loop')) return;
      if (!existsSync(busPath) || !existsSync(peerPath)) return fail(`reported ready but ${busPath} or ${peerPath} is missing`);
      clearTimeout(deadline);
      child.removeListener('exit', early);
      resolve({
        busPath,
        peerPath,
        get running() {
          return child.exitCode === null && child.signalCode === null;
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const lingering = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
          await exited;
          clearTimeout(lingering);
        },
      });
    });
  });
}
