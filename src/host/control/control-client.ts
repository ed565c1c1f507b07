/**
 * The CLI's end of the control socket: one request, one answer, one connection (docs/control.md).
 *
 * No daemon (no socket file, or one nobody listens on) is WG_ERR_CONTROL_UNREACHABLE, distinct from
 * every other failure, so that a command can fall back to working on its own where that makes sense.
 * An error the daemon answers with is thrown as the daemon said it (ControlRemoteError: its code,
 * message and context).
 */
import { connect } from 'node:net';
import { WgError } from '../errors.js';
import { ControlRemoteError, type ControlErrorBody, type ControlParams } from './control-protocol.js';

/** Longest answer line read, bytes: a status of hundreds of devices is some hundred KiB. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** errno codes that mean no daemon is there to ask. */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR']);

export interface ControlAnswer<T> {
  result: T;
  /** The daemon's control protocol version (docs/control.md, versioning). */
  protocol: number;
}

/** Sends `op` with `params` to the daemon on `socketPath`; resolves with its result and protocol. */
export function controlRequest<T = unknown>(socketPath: string, op: string, params: ControlParams = {}, timeoutMs = 5000): Promise<ControlAnswer<T>> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const id = 1;
    let answer = '';
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new WgError('WG_ERR_CONTROL_TIMEOUT', { socket: socketPath, op, timeout: `${timeoutMs}ms` }))),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(`${JSON.stringify({ id, op, params })}\n`));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      const nl = answer.indexOf('\n');
      if (nl < 0) {
        if (answer.length > MAX_RESPONSE_BYTES) finish(() => reject(protocolError(socketPath, `an answer longer than ${MAX_RESPONSE_BYTES} bytes`)));
        return;
      }
      finish(() => {
        try {
          resolve(readAnswer<T>(answer.slice(0, nl), id, socketPath));
        } catch (err) {
          reject(err);
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(() => reject(UNREACHABLE.has(err.code ?? '')
        ? new WgError('WG_ERR_CONTROL_UNREACHABLE', { socket: socketPath, detail: unreachableDetail(err) }, { cause: err })
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? new WgError('WG_ERR_CONTROL_DENIED', { socket: socketPath, detail: 'the socket is 0600, for the user the daemon runs as: run this as that user, or as root' }, { cause: err })
          : new WgError('WG_ERR_CONTROL_PROTOCOL', { socket: socketPath, detail: err.message }, { cause: err })));
    });
    // Closed before a byte of the answer: the daemon stopped under the request (a SIGTERM during a
    // scan); that is no protocol problem, and the engineer should hear what happened.
    socket.on('close', () => finish(() => reject(answer.trim() === '' ? new WgError('WG_ERR_CONTROL_CLOSED', { socket: socketPath, op }) : protocolError(socketPath, 'the connection closed in the middle of the answer'))));
  });
}

function readAnswer<T>(line: string, id: number, socketPath: string): ControlAnswer<T> {
  let response: { id?: unknown; protocol?: unknown; ok?: unknown; result?: unknown; error?: ControlErrorBody };
  try {
    response = JSON.parse(line) as typeof response;
  } catch {
    throw protocolError(socketPath, `the answer is not JSON: ${line.slice(0, 80)}`);
  }
  if (typeof response.protocol !== 'number') throw protocolError(socketPath, 'the answer carries no protocol version');
  if (response.ok === false && response.error && typeof response.error.code === 'string') throw new ControlRemoteError(response.error);
  // An error about the connection itself (the connection cap) has no id; anything else must be ours.
  if (response.id !== id) throw protocolError(socketPath, `an answer to request ${String(response.id)}, not to ${id}`);
  if (response.ok !== true) throw protocolError(socketPath, 'the answer is neither a result nor an error');
  return { result: response.result as T, protocol: response.protocol };
}

function protocolError(socket: string, detail: string): WgError {
  return new WgError('WG_ERR_CONTROL_PROTOCOL', { socket, detail });
}

function unreachableDetail(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'the socket file exists but nobody listens on it (a daemon that ended without removing it)';
  return 'there is no socket file (no daemon runs with this socket)';
}
