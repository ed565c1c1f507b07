/**
 * The commissioning commands ask the running daemon first. On RS-485 a second master on the line
 * garbles the daemon's polls and its own (and the port is locked anyway); a Modbus TCP device may take
 * one connection only. So when a daemon answers on its control socket and holds the line, probe and
 * scan read through it, as a guest between its polls, and write goes through its arbiter; only when
 * no daemon runs, or it does not use that line, do they work stand-alone. `--standalone` skips the
 * daemon. Notes on which way was taken go to stderr, so that --json output stays one document.
 */
import { isWgError, WgError } from '../errors.js';
import { CodedError } from '../../errors.js';
import { controlRequest } from '../control/control-client.js';
import type { Logger } from '../logger.js';
import type { DaemonReading } from '../commission/daemon-read.js';
import { readBudgetMs, readOnce, type UnitReading } from '../commission/one-shot-read.js';
import type { CommissionTarget } from '../commission/commission-target.js';
import type { WriteResult } from '../poll/point-write.js';
import { socketCandidates, type SocketOptions } from './daemon-socket.js';

export interface DaemonChoice extends SocketOptions {
  /** Never ask a daemon. */
  standalone?: boolean;
}

/** Extra wait for the daemon's answer beyond the read's own budget: the socket, the worker's start. */
const ANSWER_MARGIN_MS = 5_000;
const WRITE_ANSWER_MS = 30_000;

/** The readings of `target`: through the daemon when it holds the line, else stand-alone. */
export async function readTarget(target: CommissionTarget, choice: DaemonChoice, logger: Logger, note: (line: string) => void): Promise<UnitReading[]> {
  if (!choice.standalone) {
    const asked = await askDaemon<DaemonReading>(choice, 'read', { target }, readBudgetMs(target, true) + ANSWER_MARGIN_MS);
    if (asked.answered) {
      note(`read through the running daemon (${asked.socket}) on its link ${asked.result.link}, between its polls, with the daemon's line settings`);
      return asked.result.readings;
    }
    if (asked.why) note(asked.why);
  }
  return readOnce(target, logger);
}

/** Writes through the daemon when one runs; undefined when none does (the caller writes stand-alone). */
export async function writeThroughDaemon(choice: DaemonChoice, request: { pipeline: string; device: string; point: string; value: number }, note: (line: string) => void): Promise<WriteResult | undefined> {
  if (choice.standalone) return undefined;
  // JSON carries no NaN: a relinquish (NaN, a BACnet point's Null) goes as relinquish: true, without a value.
  const { value, ...rest } = request;
  const params = Number.isNaN(value) ? { ...rest, relinquish: true } : request;
  const asked = await askDaemon<WriteResult>(choice, 'write', params, WRITE_ANSWER_MS);
  if (!asked.answered) {
    if (asked.why) note(asked.why);
    return undefined;
  }
  note(`written through the running daemon (${asked.socket}), between its polls`);
  return asked.result;
}

type Asked<T> = { answered: true; socket: string; result: T } | { answered: false; why?: string };

/**
 * Asks the first daemon that answers. None answering is no error unless the operator named a socket
 * (--socket): then they meant that daemon. A daemon that does not hold the line (or does not know the
 * operation: an older one) leaves the work to the stand-alone path; a daemon that refuses us (another
 * user's socket) does not, since working past it would collide with its polls.
 */
async function askDaemon<T>(choice: DaemonChoice, op: string, params: Record<string, unknown>, timeoutMs: number): Promise<Asked<T>> {
  const found = await socketCandidates(choice);
  // A daemon run with that file cannot be asked: work stand-alone (a port it holds is locked, so
  // that fails safely), saying so. Before, probe and write refused, naming `wasmgate status`.
  if (!found.ok && found.socketOff) return { answered: false, why: `${found.lines.join('; ')}: working stand-alone` };
  if (!found.ok) throw new WgError('WG_ERR_CLI_USAGE', { detail: found.lines.join('; ') });
  for (const socket of found.sockets) {
    try {
      const { result } = await controlRequest<T>(socket, op, params, timeoutMs);
      return { answered: true, socket, result };
    } catch (err) {
      if (isWgError(err, 'WG_ERR_CONTROL_UNREACHABLE')) {
        if (choice.socket !== undefined) throw err;
        continue;
      }
      if (err instanceof CodedError && err.code === 'WG_ERR_CONTROL_NO_LINK') return { answered: false, why: `${err.message} (${socket}); working stand-alone` };
      if (err instanceof CodedError && err.code === 'WG_ERR_CONTROL_UNKNOWN_OP') return { answered: false, why: `the daemon on ${socket} cannot ${op} for others (an older version); working stand-alone` };
      if (err instanceof CodedError && err.code === 'WG_ERR_CONTROL_DENIED') {
        throw new WgError('WG_ERR_CLI_USAGE', { detail: `${err.message}. A daemon runs there and may hold this line: run as its user, or pass --standalone if it does not use the device` });
      }
      throw err;
    }
  }
  return { answered: false };
}
