/**
 * The wire format of the daemon's local control socket (docs/control.md): newline-delimited JSON, one
 * request per line from the client, one response per line from the daemon, matched by `id`.
 *
 *   request   {"id":1,"op":"status","params":{}}
 *   success   {"id":1,"protocol":1,"ok":true,"result":{...}}
 *   failure   {"id":1,"protocol":1,"ok":false,"error":{"code":"WG_ERR_...","message":"...","context":{...}}}
 *
 * Every response carries `protocol`, so a client learns what the daemon speaks from any answer, the
 * refusals included, without a round trip of its own. The number only grows: protocol N is protocol
 * N-1 plus additions (an op, a parameter, a result field). A daemon refuses parameters it does not
 * know rather than ignoring them, so a newer client's `dry_run` can never be dropped silently by an
 * older daemon; a client that needs an addition checks `protocol` first.
 */
import { CodedError, type ErrorContext } from '../../errors.js';
import { WgError } from '../errors.js';

/** See the header: raised by one for every addition to the protocol. */
export const CONTROL_PROTOCOL_VERSION = 1;

/**
 * Longest request line the daemon reads, newline excluded. A status request is some 40 bytes and a
 * write a few hundred; the limit is what a line may cost the daemon in memory, per connection.
 */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

export type ControlParams = Record<string, unknown>;

export interface ControlRequest {
  /** Chosen by the client; echoed in the response. */
  readonly id: number;
  readonly op: string;
  readonly params: ControlParams;
}

export interface ControlErrorBody {
  code: string;
  message: string;
  context: ErrorContext;
}

export type ControlResponse =
  | { id: number | null; protocol: number; ok: true; result: unknown }
  | { id: number | null; protocol: number; ok: false; error: ControlErrorBody };

/** Request fields; anything else in a request line is refused (see the header on unknown parameters). */
const REQUEST_KEYS = new Set(['id', 'op', 'params']);

/**
 * Reads one request line. A refusal still carries the request's id when one could be read, so the
 * client can tell which request it answers.
 */
export function parseRequest(line: string): { ok: true; request: ControlRequest } | { ok: false; id: number | null; error: WgError } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return refuse(null, `not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return refuse(null, 'a request is a JSON object: {"id":1,"op":"status"}');
  const r = value as Record<string, unknown>;
  const id = Number.isSafeInteger(r.id) ? (r.id as number) : null;
  if (id === null) return refuse(null, `id must be an integer (got ${describe(r.id)})`);
  const unknown = Object.keys(r).filter((k) => !REQUEST_KEYS.has(k));
  if (unknown.length > 0) return refuse(id, `unknown request field(s) ${unknown.join(', ')}; a request has id, op and params`);
  if (typeof r.op !== 'string' || r.op === '') return refuse(id, `op must be the name of an operation (got ${describe(r.op)})`);
  const params = r.params === undefined ? {} : r.params;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return refuse(id, `params must be an object (got ${describe(r.params)})`);
  return { ok: true, request: { id, op: r.op, params: params as ControlParams } };
}

function refuse(id: number | null, detail: string): { ok: false; id: number | null; error: WgError } {
  return { ok: false, id, error: new WgError('WG_ERR_CONTROL_REQUEST', { detail }) };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** The response line (newline included) for a result. */
export function resultLine(id: number | null, result: unknown): string {
  return `${JSON.stringify({ id, protocol: CONTROL_PROTOCOL_VERSION, ok: true, result })}\n`;
}

/** The response line (newline included) for an error: its code, rendered message and context. */
export function errorLine(id: number | null, error: CodedError): string {
  return `${JSON.stringify({ id, protocol: CONTROL_PROTOCOL_VERSION, ok: false, error: errorBody(error) })}\n`;
}

export function errorBody(error: CodedError): ControlErrorBody {
  // The context is plain data by contract; a value JSON cannot carry (a bigint) must not lose the answer.
  const context = JSON.parse(JSON.stringify(error.context, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as ErrorContext;
  return { code: error.code, message: error.message, context };
}

/**
 * An error the daemon reported, as the client raises it: the daemon's code, message and context as
 * they came. Its code may be one this client does not know (a newer daemon); `isWgError` is true only
 * for codes it knows.
 */
export class ControlRemoteError extends CodedError {
  constructor(body: ControlErrorBody) {
    // The message arrives rendered; rendering it again would touch braces inside a detail.
    super(body.code, { message: '' }, body.context);
    this.message = body.message;
  }
}

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes (the newline not counted). Holds at most
 * `maxBytes` of an unfinished line; `push` reports `overflow` as soon as one runs past the limit.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): { lines: string[]; overflow: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (this.#pendingBytes + (nl - start) > this.#maxBytes) return { lines, overflow: true };
      this.#pending.push(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.#pending).toString('utf8').replace(/\r$/, ''));
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (this.#pendingBytes + rest > this.#maxBytes) return { lines, overflow: true };
    if (rest > 0) {
      // A copy: the rest of a large chunk must not keep the whole chunk alive.
      this.#pending.push(Buffer.from(chunk.subarray(start)));
      this.#pendingBytes += rest;
    }
    return { lines, overflow: false };
  }
}
