/**
 * Source kind `bacnet_ip`: BACnet/IP devices (ASHRAE 135, Annex J), each reached over a UDP socket of
 * its own connected to its address (the device answers to the port a request came from, so the socket
 * binds a port the OS picks unless `local_port` says one). A point is one property of one object of
 * the device: `object_type` and `instance`, `property` (present-value by default). The decoder
 * (`bacnet`) reads them by ReadPropertyMultiple, or ReadProperty where `read_multiple: false`; `timeout`
 * is the APDU timeout and `retries` the number of APDU retries of each request. A point declared
 * `access: write` (or `read_write`) may be written by WriteProperty at its `write_priority`
 * (bacnet-writable.ts says which points can be).
 *
 * A point's `unit` may be a BACnet engineering unit name (`degrees-fahrenheit`), which becomes si's
 * spelling (`degF`) here, so the `si` step converts it as it does a Modbus point's.
 */
import { DEFAULTS } from '../config/defaults.js';
import { known } from '../config/resolve-pipeline.js';
import { duration, name } from '../config/schema-fragments.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { ResolvedBacnetPoint, ResolvedCov, ResolvedLink } from '../config/resolved.js';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';
import { parseDuration } from '../config/units.js';
import { udpTransport } from '../../hal/udp.js';
import { BACNET_OBJECT_TYPES, BACNET_PROPERTIES, objectTypeNumber, propertyNumber } from './bacnet-names.js';
import { POINT_ACCESS } from './modbus-point-schema.js';
import { checkBacnetWritable } from './bacnet-writable.js';
import { siUnitOf } from './bacnet-units.js';
import type { SourceKind } from './source-kind.js';

/** The largest BACnet/IP datagram: a 1497-octet NPDU (Annex J) in a Forwarded-NPDU's 10-octet BVLC. */
export const BACNET_IP_MAX_DATAGRAM = 1507;

const D = DEFAULTS.bacnetDevice;
const P = DEFAULTS.bacnetPoint;

const point = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'object_type', 'instance'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'point name, unique within its device; {point} in topics' },
    // A name or a number: one type with the number's range, the name checked in check(), so a typo is
    // one problem that lists the names (anyOf would give one per branch).
    object_type: {
      type: ['string', 'integer'],
      minimum: 0,
      maximum: 1023,
      description: 'the object\'s type: analog-input, analog-output, analog-value, binary-input, binary-output, binary-value, multi-state-input, multi-state-output, multi-state-value, device, or a BACnetObjectType number',
    },
    instance: { type: 'integer', minimum: 0, maximum: 4194302, description: 'the object\'s instance number' },
    property: {
      type: ['string', 'integer'],
      minimum: 0,
      maximum: 4194303,
      description: 'the property read: present-value, units, status-flags, out-of-service, reliability, object-name, description, or a BACnetPropertyIdentifier number',
      default: P.property,
    },
    unit: { type: 'string', description: 'unit of the value: si\'s spelling (degF) or a BACnet engineering unit name (degrees-fahrenheit); default none', default: P.unit },
    access: { enum: POINT_ACCESS, description: 'whether the point may be written (wasmgate write, rules): write or read_write for the present-value of an analog, binary or multi-state output or value object', default: P.access },
    write_priority: { type: 'integer', minimum: 1, maximum: 16, description: 'the priority (1 highest, 16 lowest; 6 is reserved for minimum on/off) a write commands and a relinquish empties; default none: the request carries none and the device takes 16' },
    description: { type: 'string', description: 'free text', default: P.description },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'device_instance', 'points'],
  properties: {
    name: name('device name, unique within the pipeline; {device} in topics'),
    host: { type: 'string', minLength: 1, description: 'IP address (or host name) of the device' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'UDP port of the device', default: D.port },
    device_instance: { type: 'integer', minimum: 0, maximum: 4194302, description: 'instance number of the device object: the device\'s BACnet identity' },
    interval: duration('time between polls', D.interval),
    timeout: duration('APDU timeout: wait for one answer', D.timeout),
    retries: { type: 'integer', minimum: 0, maximum: 10, description: 'APDU retries: extra attempts per request before its points go no-comm', default: D.retries },
    read_multiple: { type: 'boolean', description: 'read by ReadPropertyMultiple (false: one ReadProperty per point, for a device without it)', default: true },
    local_port: { type: 'integer', minimum: 0, maximum: 65535, description: 'UDP port the gateway binds for this device; 0: one the OS picks', default: D.localPort },
    cov: {
      type: 'object',
      additionalProperties: false,
      required: ['lifetime'],
      description: 'subscribe to changes of value (SubscribeCOV) of the points\' objects instead of polling them; a device that refuses is polled',
      properties: {
        lifetime: duration('lifetime of each subscription, whole seconds; renewed at half of it'),
        confirmed: { type: 'boolean', description: 'ask for confirmed notifications (the gateway acknowledges each)', default: D.covConfirmed },
        refresh: duration('while subscribed, poll this often anyway (a slow check of every value); none: no polls while subscribed'),
        process_id: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'subscriber process identifier sent with each subscription', default: D.covProcessId },
      },
    },
    points: { type: 'array', minItems: 1, items: point },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['devices'],
  properties: { devices: { type: 'array', minItems: 1, items: device } },
} as const;

export type BacnetIpDocument = SchemaDocument<typeof schema>;

type WrittenBacnetDevice = BacnetIpDocument['devices'][number];

/**
 * `cov:` is sent in whole seconds, and renewed at half its lifetime: that half must leave room for
 * the renewal's own timeout and retries, or a device that answers slowly drops the subscription
 * before the renewal reaches it.
 */
function checkCov(d: WrittenBacnetDevice, where: SettingPath, timeoutMs: number | undefined, checks: SettingChecks): void {
  const cov = d.cov!;
  const at: SettingPath = [...where, 'cov'];
  const lifetimeMs = checks.duration([...at, 'lifetime'], cov.lifetime, true, true);
  if (cov.refresh !== undefined) checks.duration([...at, 'refresh'], cov.refresh, true, true);
  if (lifetimeMs === undefined) return;
  if (lifetimeMs % 1000 !== 0) return checks.invalid([...at, 'lifetime'], `must be whole seconds (SubscribeCOV's lifetime is in seconds); got ${String(cov.lifetime)}`);
  const exchangeMs = timeoutMs === undefined ? undefined : timeoutMs * (d.retries + 1);
  if (exchangeMs !== undefined && lifetimeMs / 2 <= exchangeMs) {
    checks.conflict([...at, 'lifetime'], [...where, 'timeout'], `half the lifetime (${lifetimeMs / 2} ms, when the renewal goes) must be longer than timeout x (retries + 1) = ${exchangeMs} ms, the longest a renewal can take`);
  }
}

function resolveCov(cov: WrittenBacnetDevice['cov']): ResolvedCov | null {
  if (!cov) return null;
  return {
    lifetimeS: known(parseDuration(cov.lifetime)) / 1000,
    confirmed: cov.confirmed,
    refreshMs: cov.refresh === undefined ? null : known(parseDuration(cov.refresh)),
    processId: cov.process_id,
  };
}

export const bacnetIp = {
  name: 'bacnet_ip' as const,
  summary: 'BACnet/IP devices over UDP, each point one property of one object, read by ReadPropertyMultiple or ReadProperty.',
  schema,

  devices: (doc, at, checks) => {
    if (!checks.intact([...at, 'devices'])) return [];
    return doc.devices.flatMap((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return [];
      const points = Array.isArray(d.points) ? d.points.map((p) => p.name) : undefined;
      return [{ name: d.name, at: where, ...(points ? { points } : {}), link: { name: d.name, key: `bacnet_ip/device/${d.name}`, endpoint: `${d.host}:${d.port}` } }];
    });
  },

  check(doc, at, checks) {
    if (!checks.intact([...at, 'devices'])) return;
    const instances = new Map<number, SettingPath>();
    const addresses = new Map<string, SettingPath>();
    doc.devices.forEach((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      if (!checks.intact(where)) return;
      checks.duration([...where, 'interval'], d.interval, true);
      const timeoutMs = checks.duration([...where, 'timeout'], d.timeout, true, true);
      if (d.cov && checks.intact([...where, 'cov'])) checkCov(d, where, timeoutMs, checks);
      const sameInstance = instances.get(d.device_instance);
      if (sameInstance) checks.conflict([...where, 'device_instance'], [...sameInstance, 'device_instance'], `device instance ${d.device_instance} is already ${checks.describe(sameInstance)}'s: a device instance is unique on a BACnet internetwork`);
      else instances.set(d.device_instance, where);
      const address = `${d.host}:${d.port}`;
      const sameAddress = addresses.get(address);
      // Devices behind a BACnet router share its address and are told apart by their network number
      // in the NPDU, which this source does not address yet.
      if (sameAddress) checks.conflict([...where, 'host'], [...sameAddress, 'host'], `${address} is already ${checks.describe(sameAddress)}'s: one BACnet/IP address is one device here (devices behind a BACnet router are not supported yet)`);
      else addresses.set(address, where);
      if (!checks.intact([...where, 'points'])) return;
      d.points.forEach((p, k) => {
        const at: SettingPath = [...where, 'points', k];
        if (typeof p.object_type === 'string' && !Object.hasOwn(BACNET_OBJECT_TYPES, p.object_type)) {
          checks.invalid([...at, 'object_type'], `unknown object type "${p.object_type}": one of ${Object.keys(BACNET_OBJECT_TYPES).join(', ')}, or a BACnetObjectType number`);
        }
        if (typeof p.property === 'string' && !Object.hasOwn(BACNET_PROPERTIES, p.property)) {
          checks.invalid([...at, 'property'], `unknown property "${p.property}": one of ${Object.keys(BACNET_PROPERTIES).join(', ')}, or a BACnetPropertyIdentifier number`);
        }
        checkBacnetWritable(p, at, checks);
      });
    });
  },

  resolve(doc, at, build) {
    doc.devices.forEach((d, i) => {
      const where: SettingPath = [...at, 'devices', i];
      const timeoutMs = known(parseDuration(d.timeout));
      const link = build.link({
        at: where,
        name: d.name,
        kind: 'bacnet_ip',
        framing: 'bacnet_ip',
        transport: 'udp',
        host: d.host,
        port: d.port,
        bindPort: d.local_port,
        inFlight: 1,
        silenceMs: 0,
        maxFrameBytes: BACNET_IP_MAX_DATAGRAM,
        connectTimeoutMs: timeoutMs,
        backoff: { minMs: known(parseDuration(D.backoffMin)), maxMs: known(parseDuration(D.backoffMax)) },
      });
      build.deviceWithPoints({
        name: d.name,
        kind: 'bacnet_ip',
        framing: 'bacnet_ip',
        address: `${d.host}:${d.port} device ${d.device_instance}`,
        unitId: 0,
        intervalMs: known(parseDuration(d.interval)),
        timeoutMs,
        retries: d.retries,
        turnaroundMs: 0,
        quarantineAfter: 3,
        bacnet: { deviceInstance: d.device_instance, readMultiple: d.read_multiple, cov: resolveCov(d.cov) },
      }, link, where, (index, firstId) => d.points.map((p, k): ResolvedBacnetPoint => ({
        protocol: 'bacnet',
        id: firstId + k,
        name: p.name,
        device: index,
        objectType: objectTypeNumber(p.object_type),
        objectTypeName: String(p.object_type),
        instance: p.instance,
        property: propertyNumber(p.property),
        propertyName: String(p.property),
        unit: siUnitOf(p.unit),
        description: p.description,
        access: p.access,
        writePriority: p.write_priority ?? null,
      })));
    });
  },

  transport: (link: ResolvedLink) => {
    if (link.transport !== 'udp') throw new TypeError(`bacnet_ip link ${link.name} is not a UDP link`);
    return udpTransport({ device: link.name, host: link.host, port: link.port, bindPort: link.bindPort, connectTimeoutMs: link.connectTimeoutMs });
  },
} satisfies SourceKind<BacnetIpDocument>;
