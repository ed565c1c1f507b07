/**
 * One request to the running daemon for a CLI command (`status`, `reload`): the control socket found
 * as daemon-socket.ts says, each candidate tried in turn while none answers, and what went wrong said
 * on `err` with the command's name. Resolves with the result, or undefined once the failure was said.
 */
import { isWgError, type WgError } from '../errors.js';
import { controlRequest } from '../control/control-client.js';
import { CodedError } from '../../errors.js';
import { socketCandidates, type SocketOptions } from './daemon-socket.js';

export interface DaemonAsk {
  command: string;
  op: string;
  timeoutMs: number;
  /** Says an error the daemon answered with; default: one line with the command's name. */
  onError?: (error: CodedError) => void;
}

export async function askDaemon<T>(options: SocketOptions, ask: DaemonAsk, err: (line: string) => void): Promise<T | undefined> {
  const found = await socketCandidates(options);
  if (!found.ok) {
    for (const line of found.lines) err(found.socketOff ? `wasmgate ${ask.command}: ${line}` : line);
    return undefined;
  }
  let unreachable: WgError | undefined;
  for (const socket of found.sockets) {
    try {
      const { result } = await controlRequest<T>(socket, ask.op, {}, ask.timeoutMs);
      return result;
    } catch (e) {
      if (isWgError(e, 'WG_ERR_CONTROL_UNREACHABLE')) {
        unreachable ??= e;
        continue;
      }
      if (e instanceof CodedError) {
        (ask.onError ?? ((error) => err(`wasmgate ${ask.command}: ${error.toString()}`)))(e);
        return undefined;
      }
      throw e;
    }
  }
  const tried = found.sockets.length > 1 ? ` (also tried ${found.sockets.slice(1).join(', ')})` : '';
  err(`wasmgate ${ask.command}: ${unreachable!.message}${tried}; point at another daemon with --config FILE or --socket PATH [${unreachable!.code}]`);
  return undefined;
}
