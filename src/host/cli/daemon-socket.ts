/**
 * Where the CLI finds the running daemon's control socket, for `status` and for the commissioning
 * commands that go through the daemon: in order, --socket; the gateway file's control.socket (with
 * --config); the environment's WASMGATE_SOCKET; /run/wasmgate/control.sock, where the systemd unit's
 * daemon listens. A gateway file that leaves control.socket to its default names the data directory's
 * socket, as the daemon would outside systemd; under systemd the daemon uses its runtime directory,
 * which a shell does not see, so /run/wasmgate/control.sock is asked as well.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { expandEnvReferences } from '../config/env-references.js';
import { formatProblem, loadGatewayConfig, type ConfigProblem } from '../config/index.js';
import { CONTROL_SOCKET_NAME, defaultDataDir } from '../config/defaults.js';
import type { ResolvedControl } from '../config/resolved.js';
import { resolveControl } from '../config/resolve-gateway.js';

/** Where the systemd unit's daemon listens (RuntimeDirectory=wasmgate). */
export const SYSTEMD_CONTROL_SOCKET = `/run/wasmgate/${CONTROL_SOCKET_NAME}`;

export interface SocketOptions {
  config?: string;
  socket?: string;
}

/** `socketOff`: the configuration has no control socket (nothing to ask, which is no error for probe or scan). */
export type Candidates = { ok: true; sockets: string[] } | { ok: false; lines: string[]; socketOff?: true };

export async function socketCandidates(options: SocketOptions): Promise<Candidates> {
  if (options.socket !== undefined) return { ok: true, sockets: [resolve(options.socket)] };
  if (options.config !== undefined) {
    const loaded = await loadGatewayConfig(options.config);
    // A broken pipeline file must not keep an operator from the daemon (to reload once it is fixed, to
    // see its status meanwhile): the socket is the gateway file's to say.
    const control = loaded.ok ? loaded.config.control : await controlOfGatewayFile(options.config, loaded.problems);
    if (control === undefined) {
      const problems = loaded.ok ? [] : loaded.problems;
      return { ok: false, lines: [...problems.map((p) => formatProblem(p, process.cwd())), `${problems.length} problem(s) in the gateway file; cannot tell where its control socket is`] };
    }
    const { socket, socketFrom } = control;
    if (socket === null) return { ok: false, socketOff: true, lines: [`${options.config} turns the control socket off (control.socket: false); nothing to ask`] };
    return { ok: true, sockets: socketFrom === 'gateway.data_dir' && socket !== SYSTEMD_CONTROL_SOCKET ? [socket, SYSTEMD_CONTROL_SOCKET] : [socket] };
  }
  const fromEnv = process.env.WASMGATE_SOCKET;
  return { ok: true, sockets: [fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : SYSTEMD_CONTROL_SOCKET] };
}

/**
 * The control settings read from the gateway file alone, when the configuration as a whole has
 * problems elsewhere: in pipeline files, in plugin manifests, or in settings of the gateway file that
 * do not place the socket (an uplink's password_env unset in this shell, which the daemon's unit sets).
 * Undefined when `control` or `gateway.data_dir` itself has a problem, or the file cannot be read.
 */
async function controlOfGatewayFile(file: string, problems: readonly ConfigProblem[]): Promise<ResolvedControl | undefined> {
  const path = resolve(file);
  const placesSocket = (setting: string) => setting === '' || setting === 'control' || setting.startsWith('control.') || setting === 'gateway' || setting === 'gateway.data_dir';
  if (problems.some((p) => resolve(p.file) === path && placesSocket(p.path))) return undefined;
  try {
    const parsed = parseDocument(await readFile(path, 'utf8'));
    expandEnvReferences(parsed, process.env); // what cannot be expanded stays as written
    const doc = parsed.toJS() as { gateway?: { data_dir?: unknown }; control?: { socket?: unknown } } | null;
    const base = dirname(path);
    const written = doc?.gateway?.data_dir;
    const dataDir = typeof written === 'string' ? resolve(base, written) : defaultDataDir(base).path;
    const socket = doc?.control?.socket;
    return resolveControl(typeof socket === 'string' || typeof socket === 'boolean' ? socket : undefined, base, dataDir);
  } catch {
    return undefined;
  }
}
