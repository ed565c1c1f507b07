/**
 * `wasmgate status [--config FILE | --socket PATH] [--json]`: asks the running daemon for its status
 * over the control socket and prints it for a person, or as the status object (docs/cli.md).
 * Where the socket is looked for: daemon-socket.ts.
 */
import type { ControlStatus } from '../control/gateway-control.js';
import { statusText } from './status-text.js';
import { askDaemon } from './ask-daemon.js';

const STATUS_TIMEOUT_MS = 5000;

export interface StatusOptions {
  config?: string;
  socket?: string;
  json: boolean;
}

export async function runStatus(options: StatusOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { json, ...where } = options;
  const status = await askDaemon<ControlStatus>(where, { command: 'status', op: 'status', timeoutMs: STATUS_TIMEOUT_MS }, err);
  if (status === undefined) return 1;
  if (json) out(JSON.stringify(status, null, 2));
  else for (const line of statusText(status)) out(line);
  return 0;
}
