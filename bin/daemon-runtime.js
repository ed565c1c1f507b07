// How the daemon's Node process is started: the V8 flags and the C library setting that keep its
// memory small (docs/service.md, "Memory"; bench/gateway.bench.ts measures each against the
// defaults). They must be in place when the process starts: V8 sizes the main thread's heap when
// it creates it, and glibc reads MALLOC_* once. The unit (systemd/wasmgate.service) puts them on
// its ExecStart line; `wasmgate run` started any other way runs itself again with them
// (relaunchWithRuntime: in place with execve where it can, else as a child), unless they are there
// already or WASMGATE_REEXEC=0 says to run as is.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createRequire } from 'node:module';

/**
 * - --max-semi-space-size=1: the young generation of each thread's heap stays at 1 MB a semi-space
 *   instead of growing to 16 MB; the gateway's short-lived garbage is small, batches are in rings and
 *   plugin memory, not on the heap.
 * - --max-old-space-size=64: V8 grows the old generation in smaller steps the lower this is. 64 MB,
 *   not 32: the memory outbox a full disk falls back to holds up to 16 MiB per uplink on this heap,
 *   and a burst must not end in a V8 out-of-memory abort on a 512 MB box that has the room.
 * - --single-threaded-gc: V8's collector works on the thread whose heap it is, without helper threads.
 *   A young generation of 1 MB gains nothing from parallel scavenging, and a helper thread that cannot
 *   get a core (a gateway pinned to one, a busy box) holds the main thread's pause: scavenges of up to
 *   47-57 ms against at most 1.6-6.7 ms single-threaded, and the read -> subscriber p99 with them
 *   (bench/harness-load at 10 k points/s, both in one run, load 5).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=64', '--single-threaded-gc'];

/** Allocations of 32 KiB and more get their own mapping, returned to the kernel when freed, instead of fragmenting the malloc arenas of each thread. */
export const DAEMON_ENV = { MALLOC_MMAP_THRESHOLD_: '32768' };

/** Signals the wrapper hands on to the daemon: every one `wasmgate run` gives a meaning (docs/cli.md). */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

function flagName(flag) {
  return flag.split('=')[0];
}

/** The daemon flags this process was not started with (given on the command line or in NODE_OPTIONS, with any value, they stand). */
export function missingRuntime(execArgv = process.execArgv, env = process.env) {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName);
  return {
    flags: DAEMON_NODE_FLAGS.filter((f) => !given.includes(flagName(f))),
    env: Object.fromEntries(Object.entries(DAEMON_ENV).filter(([k]) => env[k] === undefined)),
  };
}

/**
 * The execve(2) of native/execve.c, or undefined where it did not build or cannot load (then the
 * daemon is started as a child instead). WASMGATE_RELAUNCH=child asks for the child on purpose.
 */
function nativeExecve() {
  if (process.env.WASMGATE_RELAUNCH === 'child') return undefined;
  try {
    return createRequire(import.meta.url)('../build/Release/wasmgate_execve.node').execve;
  } catch {
    return undefined;
  }
}

/**
 * Starts this same command again with the daemon's runtime. First in place: the process execs node
 * with the flags and keeps its pid, parent, stdio and process group, so whoever started it signals
 * and measures the daemon itself. Where that is not possible, in a child process, resolving with its
 * exit code. Resolves undefined when nothing is missing (or WASMGATE_REEXEC=0), for the caller to run
 * the command itself. The child gets the terminal and the wrapper's signals (once each: it has its own
 * process group, so Ctrl-C reaches it through the wrapper only). Killing the wrapper with SIGKILL ends
 * the daemon the same way: the child watches the IPC channel to its parent (watchParent).
 */
export function relaunchWithRuntime(argv) {
  if (process.env.WASMGATE_REEXEC === '0') return undefined;
  const missing = missingRuntime();
  if (missing.flags.length === 0 && Object.keys(missing.env).length === 0) return undefined;
  const execve = nativeExecve();
  if (execve) {
    const env = { ...process.env, ...missing.env, WASMGATE_REEXEC: '0' };
    try {
      // Returns only when the exec failed; the child below is the way out then.
      execve(process.execPath, [process.execPath, ...missing.flags, ...process.execArgv, process.argv[1], ...argv], Object.entries(env).map(([k, v]) => `${k}=${v}`));
    } catch {
      // fall through
    }
  }
  const child = spawn(process.execPath, [...missing.flags, ...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...missing.env, WASMGATE_REEXEC: '0', WASMGATE_PARENT_WATCH: '1' },
    detached: true,
  });
  for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(err);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

/** In the relaunched daemon: when the wrapper is gone without a word (SIGKILL), go the same way. */
export function watchParent() {
  if (process.env.WASMGATE_PARENT_WATCH !== '1' || !process.channel) return;
  delete process.env.WASMGATE_PARENT_WATCH;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
