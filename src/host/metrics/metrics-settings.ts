/**
 * The gateway file's `metrics:` block (docs/metrics.md): where the metrics and health endpoint
 * listens, or that it is off (the default). An address as `host:port` with the host an IP literal
 * (IPv6 in brackets) or `localhost`; port 0 lets the system choose (the log line says which).
 */
import { isIP } from 'node:net';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SchemaDocument } from '../config/schema-document.js';

export interface ResolvedMetrics {
  readonly host: string;
  readonly port: number;
}

export const metricsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'the local HTTP endpoint for Prometheus metrics, /healthz and /readyz',
  properties: {
    listen: {
      type: ['string', 'boolean'],
      minLength: 1,
      default: false,
      description: 'host:port to listen on, e.g. 127.0.0.1:9464; false (the default): off',
    },
  },
} as const;

export type MetricsDocument = SchemaDocument<typeof metricsSchema>;

/** `host:port` split, or a reason it is not one. */
function parseListen(text: string): ResolvedMetrics | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return 'must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464';
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65_535) return `port ${port} is above 65535`;
  if (host !== 'localhost' && isIP(host) === 0) return `host must be an IP address or localhost (got ${JSON.stringify(host)}); the endpoint binds one address`;
  if (m[1] !== undefined && isIP(host) !== 6) return `only an IPv6 address goes in brackets (got ${JSON.stringify(host)})`;
  return { host, port };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

export function checkMetrics(doc: MetricsDocument, checks: SettingChecks): void {
  const at = ['metrics', 'listen'];
  if (doc.listen === true) return checks.invalid(at, 'must be host:port, or false to keep the endpoint off (true is neither)');
  if (doc.listen === false) return;
  const parsed = parseListen(doc.listen);
  if (typeof parsed === 'string') return checks.invalid(at, parsed);
  if (!LOOPBACK.has(parsed.host)) checks.hint(at, `metrics on ${parsed.host} can be read beyond this machine (device names, counters); keep it on 127.0.0.1 unless a firewall or a trusted network guards it`);
}

/** Only called on a checked document. */
export function resolveMetrics(doc: MetricsDocument): ResolvedMetrics | null {
  if (typeof doc.listen !== 'string') return null;
  return parseListen(doc.listen) as ResolvedMetrics;
}
