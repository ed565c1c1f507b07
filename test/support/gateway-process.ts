/**
 * The real daemon in a child process (`bin/wasmgate.js run --config FILE`), for tests that look at
 * what only a whole process shows: its resident memory, its log output as an operator's log shipper
 * sees it, its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/wasmgate.js');

/**
 * The daemon's Node flags and environment (bin/daemon-runtime.js), as the unit gives them on its
 * ExecStart line: a daemon started with them is the process itself, not a relaunched child, so its
 * pid, /proc entries and memory are the daemon's. test/integration/run-relaunch.test.ts starts it
 * without them.
 */
export const DAEMON_RUNTIME = (await import(resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/daemon-runtime.js'))) as {
  DAEMON_NODE_FLAGS: string[];
  DAEMON_ENV: Record<string, string>;
};

/** `node <flags> bin run --config FILE` as the unit runs it (see DAEMON_RUNTIME). */
export function daemonCommand(gatewayFile: string, bin: string = BIN, extra: readonly string[] = []): { argv: string[]; env: NodeJS.ProcessEnv } {
  return {
    argv: [process.execPath, ...DAEMON_RUNTIME.DAEMON_NODE_FLAGS, bin, 'run', '--config', gatewayFile, ...extra],
    env: { ...process.env, ...DAEMON_RUNTIME.DAEMON_ENV },
  };
}

export interface GatewayProcess {
  readonly pid: number;
  /** Complete stdout lines so far. */
  readonly lines: readonly string[];
  /** Resident set size of the process now, in bytes (Linux /proc). */
  rssBytes(): number;
  /** Resolves once a stdout line satisfies `match`; rejects after `timeoutMs` or when the process exits. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs: number): Promise<string>;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the process exits by itself. */
  readonly exited: Promise<number | null>;
  /** SIGKILL (no stop, no drain: a crash), then waits for the exit. */
  kill(): Promise<void>;
}

/**
 * The daemon runs with the unit's flags (daemonCommand). `env` is added to this process's environment. `bin`: another
 * bin/wasmgate.js than this checkout's (an installed package's). `wrapper`: a command that execs the
 * rest of its arguments, keeping the process (a sandbox).
 */
export function startGatewayProcess(gatewayFile: string, env: Record<string, string> = {}, bin: string = BIN, wrapper: readonly string[] = []): GatewayProcess {
  const daemon = daemonCommand(gatewayFile, bin);
  const argv = [...wrapper, ...daemon.argv];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...daemon.env, ...env } });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const wakeAll = (): void => {
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.length > 0));
    wakeAll();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exitedPromise = new Promise<number | null>((resolveExit) => child.once('exit', (code) => {
    exited = true;
    wakeAll();
    resolveExit(code);
  }));

  return {
    pid: child.pid!,
    lines,
    exited: exitedPromise,
    rssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (!kb) throw new Error(`no VmRSS in /proc/${child.pid}/status`);
      return Number(kb[1]) * 1024;
    },
    waitForLine(match, what, timeoutMs) {
      return new Promise((resolvePromise, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found !== undefined) done(() => resolvePromise(found));
          else if (exited) done(() => reject(new Error(`gateway exited before ${what}; stderr: ${stderr}; stdout: ${lines.slice(-5).join('\n')}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stdout: ${lines.slice(-5).join('\n')}`))), timeoutMs);
        const done = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (exited) return;
      const exit = once(child, 'exit');
      child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (exited) return child.exitCode;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exit) as [number | null];
      return code;
    },
  };
}
