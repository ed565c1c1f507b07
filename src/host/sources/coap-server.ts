/**
 * Source kind `coap_server`: the gateway is a CoAP server (RFC 7252) that constrained devices POST or
 * PUT their readings to. Each device has a resource path whose bodies name its points (`{"temp":
 * 21.5}`), and each point may have a path of its own whose body is its one value; the decoder is the
 * `payload` plugin (or another of ABI 1.5, for a body format of its own). A Confirmable request is
 * answered (2.04 Changed, piggybacked on its ACK) only once its body is in the ingress ring.
 * What the server refuses, and how it stays bounded under a flood, is coap-server-listener.ts's.
 */
import { DEFAULTS } from '../config/defaults.js';
import { known } from '../config/resolve-pipeline.js';
import { duration, name } from '../config/schema-fragments.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { ResolvedPushPoint } from '../config/resolved.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import { COAP_MEDIA_TYPE_NAMES } from './coap-media-types.js';
import { coapServerListener } from './coap-server-listener.js';
import type { SourceKind } from './source-kind.js';

const D = DEFAULTS.coapServer;

/** A resource path as written: segments of anything but `/`, `?`, `#` and white space, a leading `/` allowed. */
function resource(description: string) {
  return { type: 'string', pattern: '^/?[^/?#\\s]+(/[^/?#\\s]+)*$', maxLength: 255, description } as const;
}

/**
 * The path as the listener compares it: without its leading `/`, each segment percent-decoded, as a
 * client puts a URI's path into its Uri-Path options (RFC 7252 6.4: coap://gw/a%20b is the option
 * "a b"), so that a resource written as in a URI matches. `resourceProblem` has refused what cannot
 * be decoded first.
 */
export function resourceKey(path: string): string {
  const bare = path.startsWith('/') ? path.slice(1) : path;
  return bare.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }).join('/');
}

/** Why a resource path as written cannot be one a request names, or undefined. */
function resourceProblem(path: string): string | undefined {
  for (const segment of (path.startsWith('/') ? path.slice(1) : path).split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return `resource ${path}: segment "${segment}" has a % that starts no percent-encoding (%XX of UTF-8): write %25 for a % itself`;
    }
    if (decoded.includes('/')) return `resource ${path}: segment "${segment}" decodes to a /, which no Uri-Path option of a configured path can carry here; write the path's segments apart`;
  }
  return undefined;
}

const point = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'point name, unique within its device; {point} in topics, and the member naming it in the device\'s bodies' },
    resource: resource('a path of its own: a body sent there is this point\'s value alone (a number, or {value, ts, quality}); default none'),
    unit: { type: 'string', description: 'unit of the value; default none', default: '' },
    description: { type: 'string', description: 'free text', default: '' },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points'],
  properties: {
    name: name('device name, unique within the pipeline; {device} in topics'),
    resource: resource('the path whose bodies name this device\'s points ({"temp": 21.5}); default none'),
    points: { type: 'array', minItems: 1, items: point },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['devices'],
  properties: {
    bind: { type: 'string', minLength: 1, description: 'local IP address the server binds (:: for IPv6)', default: D.bind },
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'UDP port the server binds; 0: one the OS picks (the push.listening line says which)', default: D.port },
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, description: 'bodies a second the source takes on average (its token bucket refills by this)', default: D.rate },
    burst: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'bodies it takes at once after a quiet spell (the bucket\'s size)', default: D.burst },
    queue: { type: 'integer', minimum: 1, maximum: 65536, description: 'bodies that may wait for room in the ingress ring; past it, 5.03', default: D.queue },
    max_body: { type: 'integer', minimum: 1, maximum: 65000, description: 'bytes of one body, a Block1 transfer\'s whole; past it, 4.13', default: D.maxBody },
    media_types: {
      type: 'array',
      items: { type: 'string' },
      uniqueItems: true,
      description: `Content-Formats a body may declare (${COAP_MEDIA_TYPE_NAMES.join(', ')}); another is 4.15. A body that declares none is always taken`,
      default: D.mediaTypes,
    },
    block_transfers: { type: 'integer', minimum: 0, maximum: 1024, description: 'Block1 transfers (RFC 7959) in progress at once; 0 refuses Block1', default: D.blockTransfers },
    block_timeout: duration('how long an unfinished Block1 transfer is kept', D.blockTimeout),
    exchanges: { type: 'integer', minimum: 16, maximum: 65536, description: 'message ids remembered to answer a retransmission with the same answer (RFC 7252, 4.5); the oldest go first', default: D.exchanges },
    devices: { type: 'array', minItems: 1, items: device },
  },
} as const;

export type CoapServerDocument = SchemaDocument<typeof schema>;

export const coapServer = {
  name: 'coap_server' as const,
  summary: 'A CoAP server (RFC 7252) that devices POST or PUT readings to, at a resource per device or per point; the payload plugin decodes the bodies.',
  schema,

  devices: (doc, at, checks) => {
    if (!checks.intact([...at, 'devices'])) return [];
    const key = `coap_server/${doc.bind}:${doc.port}`;
    return doc.devices.flatMap((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return [];
      const points = Array.isArray(d.points) ? d.points.map((p) => p.name) : undefined;
      return [{ name: d.name, at: where, ...(points ? { points } : {}), link: { name: 'coap_server', key, endpoint: `${doc.bind}:${doc.port}` } }];
    });
  },

  check(doc, at, checks) {
    checks.duration([...at, 'block_timeout'], doc.block_timeout, true, true);
    if (checks.intact([...at, 'media_types'])) {
      doc.media_types.forEach((m, i) => {
        if (!COAP_MEDIA_TYPE_NAMES.includes(m)) checks.invalid([...at, 'media_types', i], `unknown media type "${m}": one of ${COAP_MEDIA_TYPE_NAMES.join(', ')}`);
      });
    }
    if (!checks.intact([...at, 'devices'])) return;
    const paths = new Map<string, SettingPath>();
    const claim = (path: string | undefined, where: SettingPath): void => {
      if (path === undefined) return;
      const problem = resourceProblem(path);
      if (problem !== undefined) return void checks.invalid(where, problem);
      const key = resourceKey(path);
      const other = paths.get(key);
      if (other) checks.conflict(where, other, `resource ${key} is already ${checks.describe(other)}'s: one path maps to one device or point`);
      else paths.set(key, where);
    };
    doc.devices.forEach((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return;
      claim(d.resource, [...where, 'resource']);
      d.points.forEach((p, k) => {
        claim(p.resource, [...where, 'points', k, 'resource']);
        if (p.resource === undefined && d.resource === undefined) {
          checks.invalid([...where, 'points', k], `point ${p.name} has no resource, and device ${d.name} has none either: no request can reach it`);
        }
      });
    });
  },

  resolve(doc, at, build) {
    const resources: Array<{ path: string; device: number; point: number | null }> = [];
    const link = build.link({
      at,
      name: 'coap_server',
      kind: 'coap_server',
      framing: 'push',
      transport: 'push',
      endpoint: `udp ${doc.bind}:${doc.port}`,
      inFlight: 1,
      silenceMs: 0,
      maxFrameBytes: doc.max_body,
      connectTimeoutMs: 5000,
      backoff: { minMs: known(parseDuration(D.backoffMin)), maxMs: known(parseDuration(D.backoffMax)) },
      limits: { ratePerSecond: doc.rate, burst: doc.burst, maxWaiting: doc.queue },
      maxBodyBytes: doc.max_body,
      coap: {
        bindAddress: doc.bind,
        port: doc.port,
        resources,
        mediaTypes: doc.media_types,
        maxBlockTransfers: doc.block_transfers,
        blockTimeoutMs: known(parseDuration(doc.block_timeout)),
        maxCachedMessages: doc.exchanges,
      },
    });
    doc.devices.forEach((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      build.deviceWithPoints({
        name: d.name,
        kind: 'coap_server',
        framing: 'push',
        address: d.resource !== undefined ? `coap ${doc.bind}:${doc.port}/${resourceKey(d.resource)}` : `coap ${doc.bind}:${doc.port}`,
        unitId: 0,
        intervalMs: 0,
        timeoutMs: 0,
        retries: 0,
        turnaroundMs: 0,
        quarantineAfter: 0,
        bacnet: null,
      }, link, where, (index, firstId) => {
        if (d.resource !== undefined) resources.push({ path: resourceKey(d.resource), device: index, point: null });
        return d.points.map((p, k): ResolvedPushPoint => {
          if (p.resource !== undefined) resources.push({ path: resourceKey(p.resource), device: index, point: firstId + k });
          return { protocol: 'push', id: firstId + k, name: p.name, device: index, resource: p.resource === undefined ? null : resourceKey(p.resource), unit: p.unit, description: p.description, access: 'read' };
        });
      });
    });
  },

  listen: (link, _devices, context) => coapServerListener(link, context),
} satisfies SourceKind<CoapServerDocument>;
