/**
 * The CoAP uplink kind (RFC 7252, node-coap): each message is a POST or PUT to `url` with the topic's
 * levels appended to its path; QoS 1 confirmable, QoS 0 not; payloads over `block_size` go block-wise
 * (RFC 7959 Block1). node-coap has no DTLS, so `coaps://` is refused with that said. Its sink is
 * src/host/sinks/coap.ts.
 */
import type { ResolvedCoapUplink, ResolvedUplink } from '../config/resolved.js';
import type { SchemaDocument } from '../config/schema-document.js';
import { backoff } from '../config/resolve-pipeline.js';
import { backoff as backoffSchema } from '../config/schema-fragments.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import type { UplinkContext, UplinkKind } from './uplink-kind.js';
import { checkOutbox, outboxSchema, resolveOutbox } from './outbox-settings.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^coaps?://', description: 'server URI, coap://host[:port][/path]; each message goes to path/topic' },
    method: { enum: ['post', 'put'], default: 'post', description: 'request method of each message' },
    qos: { enum: [0, 1], default: 1, description: '1: confirmable requests, retransmitted until acknowledged; 0: non-confirmable' },
    block_size: { enum: [16, 32, 64, 128, 256, 512, 1024], default: 1024, description: 'payloads larger than this go block-wise (RFC 7959 Block1), in blocks of this size' },
    in_flight: { type: 'integer', minimum: 1, maximum: 16, default: 1, description: 'requests outstanding at once (RFC 7252 NSTART is 1); order is kept only with 1' },
    retransmit: { type: 'integer', minimum: 0, maximum: 8, default: 4, description: 'retransmissions of a confirmable request before it counts as lost (RFC 7252 MAX_RETRANSMIT)' },
    reconnect: backoffSchema('wait after a lost exchange before the next', '1s', '30s'),
    outbox: outboxSchema,
  },
} as const;

export type CoapDocument = SchemaDocument<typeof schema>;

async function checkCoap(doc: CoapDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
  if (checks.clean([...at, 'url'])) {
    let url: URL | undefined;
    try {
      url = new URL(doc.url);
    } catch {
      checks.invalid([...at, 'url'], `is not a URL (got ${JSON.stringify(doc.url)})`);
    }
    if (url?.protocol === 'coaps:') checks.invalid([...at, 'url'], 'coaps:// (DTLS) is not supported: node-coap has no DTLS; use coap:// over a VPN or a trusted network');
    else if (url && url.hostname === '') checks.invalid([...at, 'url'], 'must name a host, as in coap://ingest.example:5683/telemetry');
    else if (url && (url.search !== '' || url.hash !== '')) checks.invalid([...at, 'url'], 'takes no query or fragment: messages go to the path, with the topic appended');
  }
  checks.backoff([...at, 'reconnect'], doc.reconnect);
  checkOutbox(doc.outbox, [...at, 'outbox'], checks);
}

async function resolveCoap(name: string, doc: CoapDocument, { gatewayId }: UplinkContext): Promise<ResolvedCoapUplink> {
  const url = new URL(doc.url);
  return {
    name,
    transport: 'coap',
    url: doc.url,
    // URL keeps the brackets of an IPv6 literal; the socket wants the address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 5683 : Number(url.port),
    path: url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent),
    method: doc.method === 'put' ? 'PUT' : 'POST',
    qos: doc.qos,
    blockSize: doc.block_size,
    inFlight: doc.in_flight,
    maxRetransmit: doc.retransmit,
    reconnect: backoff(doc.reconnect),
    outbox: resolveOutbox(doc.outbox, { gateway: gatewayId, uplink: name }),
  };
}

export const coapUplink = {
  name: 'coap' as const,
  summary: 'A CoAP server (coap://, RFC 7252): one POST or PUT per message to the URI with the topic appended, confirmable at QoS 1, block-wise (RFC 7959) past block_size; no DTLS.',
  schema,
  check: checkCoap,
  resolve: resolveCoap,
  async sink(uplink: ResolvedUplink, logger) {
    if (uplink.transport !== 'coap') throw new TypeError(`uplink ${uplink.name} is not a CoAP uplink`);
    // Loaded when a gateway runs, not when a command only reads the configuration.
    const { CoapSink } = await import('../sinks/coap.js');
    return new CoapSink({ ...uplink, mark: uplink.outbox.mark }, logger);
  },
} satisfies UplinkKind<CoapDocument>;
