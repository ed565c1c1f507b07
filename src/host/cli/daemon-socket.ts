/**
 * Where the CLI finds the running daemon's control socket, for `status` and for the commissioning
 * commands that go through the daemon: in order, --socket; the gateway file's control.socket (with
 * --config); the environment's WASMGATE_SOCKET; /run/wasmgate/control.sock, where the systemd unit's
 * daemon listens. A gateway file that leaves control.socket to its default names the data directory's
 * socket, as the daemon would outside systemd; under systemd the daemon uses its runtime directory,
 * which a shell does not see, so /run/wasmgate/control.sock is asked as well.
 */
import { resolve } from 'node:path';
import { formatProblem, loadGatewayConfig } from '../config/index.js';
import { CONTROL_SOCKET_NAME } from '../config/defaults.js';

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
    if (!loaded.ok) return { ok: false, lines: [...loaded.problems.map((p) => formatProblem(p, process.cwd())), `${loaded.problems.length} problem(s) in the configuration; cannot tell where its control socket is`] };
    const { socket, socketFrom } = loaded.config.control;
    if (socket === null) return { ok: false, socketOff: true, lines: [`${options.config} turns the control socket off (control.socket: false); nothing to ask`] };
    return { ok: true, sockets: socketFrom === 'gateway.data_dir' && socket !== SYSTEMD_CONTROL_SOCKET ? [socket, SYSTEMD_CONTROL_SOCKET] : [socket] };
  }
  const fromEnv = process.env.WASMGATE_SOCKET;
  return { ok: true, sockets: [fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : SYSTEMD_CONTROL_SOCKET] };
}
