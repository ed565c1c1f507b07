/**
 * `wasmgate status [--config FILE | --socket PATH] [--json]`: asks the running daemon for its status
 * over the control socket and prints it for a person, or as the status object (docs/cli.md).
 * Where the socket is looked for: daemon-socket.ts.
 */
import { isWgError, WgError } from '../errors.js';
import { controlRequest } from '../control/control-client.js';
import type { ControlStatus } from '../control/gateway-control.js';
import { CodedError } from '../../errors.js';
import { statusText } from './status-text.js';
import { socketCandidates } from './daemon-socket.js';

const STATUS_TIMEOUT_MS = 5000;

export interface StatusOptions {
  config?: string;
  socket?: string;
  json: boolean;
}

export async function runStatus(options: StatusOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const found = await socketCandidates(options);
  if (!found.ok) {
    for (const line of found.lines) err(found.socketOff ? `wasmgate status: ${line}` : line);
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
