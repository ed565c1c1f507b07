/**
 * The daemon's end of the control socket (docs/control.md): a Unix socket, 0600, that answers one
 * request line at a time per connection with the handler registered for its op.
 *
 * Operations are a map op -> async (params) => result, handed in once with `serve` (the gateway's are
 * in gateway-control.ts); `hello` is the server's own. Until `serve`, only `hello` answers: the socket
 * is claimed before the gateway starts, so that a second daemon on the same socket is refused before
 * it connects to a device or a broker, and served once the gateway runs.
 *
 * A hostile or broken client costs the daemon a bounded amount and nothing else: at most
 * MAX_CONNECTIONS connections (the next ones get WG_ERR_CONTROL_TOO_MANY_CONNECTIONS and are closed), at most one
 * request line of MAX_REQUEST_LINE_BYTES held per connection (a longer one gets an error and the
 * connection is closed), one request handled at a time per connection (at most MOST_WAITING_REQUESTS
 * lines waiting behind it, then reading pauses, so a client that floods requests or never reads its
 * answers holds only its own connection), a request whose client left before its answer abandoned
 * (its handler's signal aborts), and a
 * connection idle for IDLE_TIMEOUT_MS, a write stuck behind a client that does not read included,
 * is closed. Nothing a client does, including vanishing mid-line, raises past its connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { CodedError } from '../../errors.js';
import { WgError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RepeatLog } from '../pipeline/repeat-log.js';
import { CONTROL_PROTOCOL_VERSION, LineSplitter, MAX_REQUEST_LINE_BYTES, errorLine, parseRequest, resultLine, type ControlParams } from './control-protocol.js';
import { bindOwnerOnly, claimSocketPath, releaseSocketPath, type SocketFileIdentity } from './control-socket-file.js';

/**
 * One operation: its parameters in, a JSON-serialisable result out; a WgError it throws is answered as
 * is. `signal` aborts when the client's connection closes before the answer: nobody will read it, so
 * a long operation (a read on the daemon's bus) ends instead of costing the daemon's devices their turns.
 */
export type ControlHandler = (params: ControlParams, request: { signal: AbortSignal }) => Promise<unknown>;
export type ControlHandlers = Readonly<Record<string, ControlHandler>>;

/** Connections open at once: a CLI uses one for a moment; more than this is a script gone wrong or an attack. */
export const MAX_CONNECTIONS = 16;

/** A connection with no request in progress and no byte moving for this long is closed, ms. */
export const IDLE_TIMEOUT_MS = 30_000;

/**
 * Request lines a connection may have waiting behind the one in progress before reading from it
 * pauses. Reading goes on while a request is handled so that the client's close is seen (a paused
 * socket never sees it) and its request abandoned; past this many, a flood waits in the kernel's
 * buffers, not in ours.
 */
const MOST_WAITING_REQUESTS = 16;

/** How long a refused connection is given to read its error before it is cut, ms. */
const REFUSAL_GRACE_MS = 1000;

export interface ControlServerOptions {
  logger: Logger;
  /** What `hello` says about the daemon. */
  identity: { gateway: string; version: string };
}

type ServerState = 'starting' | 'running' | 'stopping';

export class ControlServer {
  readonly socketPath: string;
  readonly #server: Server;
  readonly #logger: Logger;
  readonly #identity: ControlServerOptions['identity'];
  /** Connections served (the cap counts these). */
  readonly #connections = new Set<Socket>();
  /** Every socket accepted and not yet closed, the refused ones included: close() ends them all. */
  readonly #sockets = new Set<Socket>();
  readonly #repeats: RepeatLog;
  #file?: SocketFileIdentity;
  #handlers: ControlHandlers = {};
  #state: ServerState = 'starting';
  #refused = 0;

  private constructor(socketPath: string, options: ControlServerOptions) {
    this.socketPath = socketPath;
    this.#logger = options.logger;
    this.#identity = options.identity;
    this.#repeats = new RepeatLog((level, message, context) => this.#logger[level >= 40 ? 'warn' : 'debug']({ socket: socketPath, ...context }, message));
    // Half-open: a client may send its request and close its side (`socat`, `nc -N`) and still read the answer.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /**
   * Claims `socketPath` (removing a stale socket file, refusing one a live daemon serves) and listens
   * on it, 0600. Only `hello` answers until `serve`.
   */
  static async listen(socketPath: string, options: ControlServerOptions): Promise<ControlServer> {
    const server = new ControlServer(socketPath, options);
    await claimSocketPath(socketPath);
    server.#file = await bindOwnerOnly(server.#server, socketPath);
    server.#logger.info({ event: 'control.listening', socket: socketPath }, 'control socket listening');
    return server;
  }

  /** Starts answering the operations of `handlers`. */
  serve(handlers: ControlHandlers): void {
    this.#handlers = handlers;
    this.#state = 'running';
  }

  /** Connections open now, and connections refused for the cap so far. */
  counters(): { connections: number; refused: number } {
    return { connections: this.#connections.size, refused: this.#refused };
  }

  /** Stops accepting, ends every connection (a request in progress loses its answer) and removes the file. */
  async close(): Promise<void> {
    if (this.#state === 'stopping') return;
    this.#state = 'stopping';
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    if (this.#file) await releaseSocketPath(this.socketPath, this.#file);
    this.#logger.info({ event: 'control.closed', socket: this.socketPath }, 'control socket closed');
  }

  #accept(socket: Socket): void {
    socket.on('error', (err) => this.#logger.debug({ event: 'control.refused', socket: this.socketPath, err }, 'control connection error'));
    if (this.#state === 'stopping') return void socket.destroy();
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    if (this.#connections.size >= MAX_CONNECTIONS) {
      this.#refused++;
      this.#repeats.report('busy', 40, `control connection refused: ${MAX_CONNECTIONS} are open already`, { event: 'control.refused', socket: this.socketPath, code: 'WG_ERR_CONTROL_TOO_MANY_CONNECTIONS' });
      return refuse(socket, errorLine(null, new WgError('WG_ERR_CONTROL_TOO_MANY_CONNECTIONS', { limit: MAX_CONNECTIONS })));
    }
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    new ControlConnection(socket, (line, signal) => this.#dispatch(line, signal), (detail) => this.#repeats.report('line', 40, `control connection closed: ${detail}`, { event: 'control.refused', socket: this.socketPath, code: 'WG_ERR_CONTROL_REQUEST' }));
  }

  /** The response line for one request line. Never throws. */
  async #dispatch(line: string, signal: AbortSignal): Promise<string> {
    const parsed = parseRequest(line);
    if (!parsed.ok) return errorLine(parsed.id, parsed.error);
    const { id, op, params } = parsed.request;
    this.#logger.debug({ event: 'control.request', socket: this.socketPath, op, id }, 'control request');
    if (op === 'hello') return resultLine(id, this.#hello());
    if (this.#state !== 'running') return errorLine(id, new WgError('WG_ERR_CONTROL_NOT_READY', { op, state: this.#state }));
    if (!Object.hasOwn(this.#handlers, op)) return errorLine(id, new WgError('WG_ERR_CONTROL_UNKNOWN_OP', { op, known: this.#ops().join(', ') }));
    try {
      return resultLine(id, await this.#handlers[op]!(params, { signal }));
    } catch (err) {
      if (err instanceof CodedError) return errorLine(id, err);
      // A bug in a handler (or a result JSON cannot carry): answered and logged, never raised.
      this.#logger.error({ event: 'control.failed', socket: this.socketPath, err, op }, 'control operation failed');
      return errorLine(id, new WgError('WG_ERR_CONTROL_FAILED', { op, detail: (err as Error)?.message ?? String(err) }));
    }
  }

  #ops(): string[] {
    return ['hello', ...Object.keys(this.#handlers).sort()];
  }

  #hello(): unknown {
    return { protocol: CONTROL_PROTOCOL_VERSION, ops: this.#ops(), state: this.#state, pid: process.pid, ...this.#identity };
  }
}

/**
 * Writes `line`, half-closes, and cuts the connection if the client does not take it within the grace.
 * What the client still sends is read and thrown away: a paused socket would never see the client's
 * close, and would keep the server's own close waiting.
 */
function refuse(socket: Socket, line: string): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.end(line);
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

/** One client: its request lines, handled one at a time, in order. */
class ControlConnection {
  readonly #socket: Socket;
  readonly #dispatch: (line: string, signal: AbortSignal) => Promise<string>;
  readonly #onRefusal: (detail: string) => void;
  readonly #splitter = new LineSplitter(MAX_REQUEST_LINE_BYTES);
  readonly #queue: string[] = [];
  #busy = false;
  #ended = false;
  /** The client closed its side: answer what it sent, then close ours. */
  #peerDone = false;
  /** Aborts when the connection closes: the request in progress has nobody to answer any more. */
  readonly #gone = new AbortController();

  constructor(socket: Socket, dispatch: (line: string, signal: AbortSignal) => Promise<string>, onRefusal: (detail: string) => void) {
    this.#socket = socket;
    this.#dispatch = dispatch;
    this.#onRefusal = onRefusal;
    socket.setTimeout(IDLE_TIMEOUT_MS);
    socket.on('timeout', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => {
      this.#ended = true;
      this.#gone.abort();
    });
    socket.on('end', () => {
      this.#peerDone = true;
      if (!this.#busy) return void socket.end();
      // Half-closed (it waits for its answer), or gone (Ctrl-C)? Only a write tells the two apart: to
      // a gone client it fails (EPIPE), the connection closes and its request is abandoned; a
      // half-closed one reads a space before its answer line, which JSON allows before a value.
      socket.write(' ');
    });
  }

  #receive(chunk: Buffer): void {
    if (this.#ended) return;
    const { lines, overflow } = this.#splitter.push(chunk);
    if (overflow) {
      // What came before the long line is dropped with it: the client is not speaking the protocol.
      this.#ended = true;
      this.#queue.length = 0;
      this.#onRefusal(`a request line longer than ${MAX_REQUEST_LINE_BYTES} bytes`);
      return refuse(this.#socket, errorLine(null, new WgError('WG_ERR_CONTROL_REQUEST', { detail: `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes; the connection is closed` })));
    }
    this.#queue.push(...lines.filter((l) => l.trim() !== ''));
    if (this.#queue.length > MOST_WAITING_REQUESTS) this.#socket.pause();
    if (this.#queue.length > 0) void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const socket = this.#socket;
    // The idle timer waits while a request is handled (an op may take long); reading goes on, to see
    // the client leave, up to MOST_WAITING_REQUESTS lines.
    socket.setTimeout(0);
    try {
      while (this.#queue.length > 0 && !this.#ended) {
        const response = await this.#dispatch(this.#queue.shift()!, this.#gone.signal);
        if (this.#ended || socket.destroyed) return;
        if (!socket.write(response)) await drainedOrClosed(socket);
      }
    } finally {
      this.#busy = false;
      if (this.#peerDone) socket.end();
      else if (!this.#ended && !socket.destroyed) {
        socket.setTimeout(IDLE_TIMEOUT_MS);
        socket.resume();
      }
    }
  }
}

/** A client that does not read holds this until the idle timer (set again after) or its close. */
function drainedOrClosed(socket: Socket): Promise<void> {
  socket.setTimeout(IDLE_TIMEOUT_MS);
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
