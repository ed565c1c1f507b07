/**
 * `wasmgate status [--config FILE | --socket PATH] [--json]`: asks the running daemon for its status
 * over the control socket and prints it for a person, or as the status object (docs/cli.md).
 *
 * The socket is, in order: --socket; the gateway file's control.socket (with --config); the
 * environment's WASMGATE_SOCKET; /run/wasmgate/control.sock, where the systemd unit's daemon listens.
 * A gateway file that leaves control.socket to its default names the data directory's socket, as the
 * daemon would outside systemd; under systemd the daemon uses its runtime directory, which a shell
 * does not see, so /run/wasmgate/control.sock is asked as well.
 */
import { resolve } from 'node:path';
import { formatProblem, loadGatewayConfig } from '../config/index.js';
import { CONTROL_SOCKET_NAME } from '../config/defaults.js';
import { isWgError, WgError } from '../errors.js';
import { controlRequest } from '../control/control-client.js';
import type { ControlStatus } from '../control/gateway-control.js';
import { CodedError } from '../../errors.js';
import { statusText } from './status-text.js';

/** Where the systemd unit's daemon listens (RuntimeDirectory=wasmgate). */
export const SYSTEMD_CONTROL_SOCKET = `/run/wasmgate/${CONTROL_SOCKET_NAME}`;

const STATUS_TIMEOUT_MS = 5000;

export interface StatusOptions {
  config?: string;
  socket?: string;
  json: boolean;
}

export async function runStatus(options: StatusOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const found = await socketCandidates(options);
  if (!found.ok) {
    for (const line of found.lines) err(line);
    return 1;
  }
  let unreachable: WgError | undefined;
  for (const socket of found.sockets) {
    try {
      const { result } = await controlRequest<ControlStatus>(socket, 'status', {}, STATUS_TIMEOUT_MS);
      if (options.json) out(JSON.stringify(result, null, 2));
      else for (const line of statusText(result)) out(line);
      return 0;
    } catch (e) {
      if (isWgError(e, 'WG_ERR_CONTROL_UNREACHABLE')) {
        unreachable ??= e;
        continue;
      }
      if (e instanceof CodedError) {
        err(`wasmgate status: ${e.toString()}`);
        return 1;
      }
      throw e;
    }
  }
  const tried = found.sockets.length > 1 ? ` (also tried ${found.sockets.slice(1).join(', ')})` : '';
  err(`wasmgate status: ${unreachable!.message}${tried}; point at another daemon with --config FILE or --socket PATH [${unreachable!.code}]`);
  return 1;
}

type Candidates = { ok: true; sockets: string[] } | { ok: false; lines: string[] };

async function socketCandidates(options: StatusOptions): Promise<Candidates> {
  if (options.socket !== undefined) return { ok: true, sockets: [resolve(options.socket)] };
  if (options.config !== undefined) {
    const loaded = await loadGatewayConfig(options.config);
    if (!loaded.ok) return { ok: false, lines: [...loaded.problems.map((p) => formatProblem(p, process.cwd())), `${loaded.problems.length} problem(s) in the configuration; cannot tell where its control socket is`] };
    const { socket, socketFrom } = loaded.config.control;
    if (socket === null) return { ok: false, lines: [`wasmgate status: ${options.config} turns the control socket off (control.socket: false); nothing to ask`] };
    return { ok: true, sockets: socketFrom === 'gateway.data_dir' && socket !== SYSTEMD_CONTROL_SOCKET ? [socket, SYSTEMD_CONTROL_SOCKET] : [socket] };
  }
  const fromEnv = process.env.WASMGATE_SOCKET;
  return { ok: true, sockets: [fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : SYSTEMD_CONTROL_SOCKET] };
}
