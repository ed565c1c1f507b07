/**
 * `wasmgate reload [--config FILE | --socket PATH]`: asks the running daemon to read its files again
 * and apply what changed (docs/cli.md, "Reload"); prints what it did, or why it changed nothing.
 */
import { isWgError, type WgError } from '../errors.js';
import { controlRequest } from '../control/control-client.js';
import type { ReloadOutcome } from '../gateway.js';
import { CodedError } from '../../errors.js';
import { socketCandidates } from './daemon-socket.js';

/** Reading and configuring every plugin again can take a while on a small box. */
const RELOAD_TIMEOUT_MS = 60_000;

export async function runReload(options: { config?: string; socket?: string }, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const found = await socketCandidates(options);
  if (!found.ok) {
    for (const line of found.lines) err(found.socketOff ? `wasmgate reload: ${line}` : line);
    return 1;
  }
  let unreachable: WgError | undefined;
  for (const socket of found.sockets) {
    try {
      const { result } = await controlRequest<ReloadOutcome>(socket, 'reload', {}, RELOAD_TIMEOUT_MS);
      for (const kind of ['unchanged', 'changed', 'added', 'removed'] as const) {
        out(`${kind}: ${result[kind].length > 0 ? result[kind].join(', ') : '-'}`);
      }
      return 0;
    } catch (e) {
      if (isWgError(e, 'WG_ERR_CONTROL_UNREACHABLE')) {
        unreachable ??= e;
        continue;
      }
      if (e instanceof CodedError) {
        const problems = (e.context as { problems?: unknown }).problems;
        if (Array.isArray(problems)) for (const p of problems) err(String(p));
        err(`wasmgate reload: ${e.toString()}`);
        return 1;
      }
      throw e;
    }
  }
  err(`wasmgate reload: ${unreachable!.message}; point at another daemon with --config FILE or --socket PATH [${unreachable!.code}]`);
  return 1;
}
