/**
 * The local HTTP endpoint for Prometheus and health checks (docs/metrics.md): `GET /metrics` (the
 * text format, prom-client), `GET /healthz` and `GET /readyz` (200 or 503, with a JSON body saying
 * why). Off unless the gateway file asks for it; loopback unless it names another address. Every
 * scrape takes one status snapshot, which all metrics read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import { WgError } from '../errors.js';
import type { GatewayStatus } from '../gateway.js';
import type { Logger } from '../logger.js';
import { GATEWAY_METRICS } from './gateway-metrics.js';
import { health, readiness, StuckWatch, type HealthVerdict } from './health.js';
import { SnapshotMetric } from './snapshot-metric.js';

export interface MetricsServerOptions {
  host: string;
  /** 0: any free port (the log line and `address` say which). */
  port: number;
  logger: Logger;
}

/** Connections served at once: Prometheus, a health probe and a person with curl. */
const MAX_CONNECTIONS = 16;
/** How long a connection may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;

export class MetricsServer {
  readonly #server: Server;
  readonly #registry = new Registry();
  /** Set by `serve` once the gateway runs; until then every path answers 503. */
  #status: (() => GatewayStatus) | undefined;
  #snapshot: GatewayStatus | undefined;
  #closed = false;
  readonly #stuck = new StuckWatch();

  private constructor(server: Server) {
    this.#server = server;
    const snapshot = (): GatewayStatus => (this.#snapshot ??= this.#status!());
    // A snapshot metric has all a registry asks of a metric (snapshot-metric.ts); prom-client's type names only its own classes.
    for (const definition of GATEWAY_METRICS) this.#registry.registerMetric(new SnapshotMetric(definition, snapshot) as unknown as Metric);
    collectDefaultMetrics({ register: this.#registry });
    server.on('request', (req, res) => void this.#answer(req, res));
  }

  /**
   * Listens; rejects with WG_ERR_METRICS_LISTEN when the address cannot be bound. Bound before the
   * gateway starts, as the control socket is, so that a taken port stops the daemon before it polls.
   */
  static async listen(options: MetricsServerOptions): Promise<MetricsServer> {
    // Whoever reaches the port may open connections, and each is a file descriptor of the daemon's:
    // 400 idle ones took the last of a 1024 limit from the outbox, which fell back to memory
    // (test/integration/metrics-connection-flood.test.ts). A scraper or a probe needs one or two;
    // past MAX_CONNECTIONS a connection is closed as soon as it is accepted, and one that sends no
    // whole request in time (slowloris) is closed too, so the few it may hold come free again.
    const server = createServer({ headersTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 });
    server.maxConnections = MAX_CONNECTIONS;
    // Scrapers and probes keep no connection worth holding a stop for.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new WgError('WG_ERR_METRICS_LISTEN', { address: `${options.host}:${options.port}`, detail: err.message }, { cause: err })));
      server.listen(options.port, options.host, () => resolve());
    });
    const metrics = new MetricsServer(server);
    const { address, port } = metrics.address;
    options.logger.info({ event: 'metrics.listening', socket: `${address}:${port}`, address, port }, `metrics and health on http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
    return metrics;
  }

  /** From now on the endpoints answer from this gateway's status. */
  serve(status: () => GatewayStatus): void {
    this.#status = status;
  }

  get address(): { address: string; port: number } {
    const a = this.#server.address() as AddressInfo;
    return { address: a.address, port: a.port };
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.#send(res, 405, 'text/plain', 'only GET\n', { allow: 'GET, HEAD' });
    if (!this.#status) return this.#send(res, 503, 'application/json', `${JSON.stringify({ ok: false, problems: ['the gateway is starting'] })}\n`);
    try {
      if (path === '/metrics') {
        this.#snapshot = undefined; // one fresh snapshot per scrape
        const text = await this.#registry.metrics();
        this.#snapshot = undefined;
        return this.#send(res, 200, this.#registry.contentType, text);
      }
      if (path === '/healthz') return this.#verdict(res, health(this.#status()));
      if (path === '/readyz') {
        const status = this.#status();
        return this.#verdict(res, readiness(status, this.#stuck.stuck(status)));
      }
      return this.#send(res, 404, 'text/plain', 'not found: /metrics, /healthz and /readyz are served here\n');
    } catch (err) {
      return this.#send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    }
  }

  #verdict(res: ServerResponse, verdict: HealthVerdict): void {
    this.#send(res, verdict.ok ? 200 : 503, 'application/json', `${JSON.stringify(verdict)}\n`);
  }

  #send(res: ServerResponse, code: number, type: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#registry.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
