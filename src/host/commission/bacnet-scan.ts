/**
 * `wasmgate scan bacnet`'s work: a Who-Is to one device's address or a broadcast address, the I-Ams
 * that answer within the timeout (each giving a device instance, its max APDU, segmentation and vendor),
 * then for each device its object-list and, for each object, its object-name, present-value, units
 * and description: by one ReadPropertyMultiple per object, or by one ReadProperty each from a device
 * that rejects ReadPropertyMultiple (a B-ASC device need not do it). The frames and their meaning come from the bacnet
 * plugin's scan codec (bacnet-scan-codec.ts); this file holds the exchange: invoke ids, the sender a
 * reply must come from, the APDU timeout and retries, and the limits on devices and objects.
 *
 * The object-list is read whole first (one request), and by index when the device refuses that (an
 * Abort segmentation-not-supported: the list does not fit one APDU, and the scan accepts no segments;
 * or an Error or Reject): element 0 is its length, then each element in turn.
 *
 * The socket binds a port the OS picks (or `localPort`), never the daemon's: a BACnet device answers
 * the port a request came from, and the daemon's bacnet_ip devices bind ports of their own too.
 */
import { systemClock } from '../../hal/clock.js';
import { udpTransport, type UdpTransport } from '../../hal/udp.js';
import { isWgError } from '../errors.js';
import { abortText, errorText, rejectText } from './bacnet-reasons.js';
import { splitObjectId, type BacnetAnswer, type BacnetRoute, type BacnetScanCodec, type BacnetValue } from './bacnet-scan-codec.js';

export interface BacnetScanRequest {
  /** Where the Who-Is goes: one device's address, or a broadcast address. */
  host: string;
  port: number;
  broadcast: boolean;
  /** Who-Is to every network (DNET 0xffff), so routers pass it on to the devices behind them; else the IP network only. */
  global: boolean;
  /** Device instances to ask for (Who-Is limits); every device without. */
  range?: { low: number; high: number };
  /** APDU timeout: the wait for each answer, and for I-Ams after each Who-Is. */
  timeoutMs: number;
  /** Extra attempts of each request (and Who-Is) before giving up. */
  retries: number;
  maxDevices: number;
  /** Most objects listed per device (its device object aside). */
  maxObjects: number;
  localPort: number;
}

export interface ScannedObject {
  objectType: number;
  instance: number;
  name?: string;
  presentValue?: BacnetValue;
  /** BACnetEngineeringUnits number. */
  units?: number;
  description?: string;
  /** Properties that did not come, and why ("present-value: no answer"); a property the object lacks is no problem. */
  problems?: string[];
}

export interface ScannedDevice {
  instance: number;
  address: string;
  port: number;
  maxApdu: number;
  /** BACnetSegmentation: 0 both, 1 transmit, 2 receive, 3 none. */
  segmentation: number;
  vendor: number;
  /** Behind a BACnet router (the I-Am came with a source network): its network and MAC there; `address` is the router's. */
  route?: BacnetRoute;
  name?: string;
  /** The object-list's length as the device gave it, its device object included. */
  objectCount?: number;
  /** How the object-list came: whole, or element by element (and why). */
  objectListRead?: string;
  /** How the objects' properties came: ReadPropertyMultiple per object, or ReadProperty each where the device refused that. */
  propertiesRead?: 'ReadPropertyMultiple' | 'ReadProperty';
  objects: ScannedObject[];
  /** More objects than maxObjects: the rest were not read. */
  truncated?: boolean;
  /** Why its objects could not be read (it answered Who-Is, but not this). */
  unreadable?: string;
}

/** An I-Am with a device instance that another address had already answered with. */
export interface DuplicateInstance {
  instance: number;
  address: string;
  port: number;
  route?: BacnetRoute;
}

export interface BacnetScanResult {
  devices: ScannedDevice[];
  /**
   * Devices that answered with an instance already taken (a copied configuration, the most common
   * fault of a new site): a device instance must be unique on a BACnet internetwork. Not read.
   */
  duplicates: DuplicateInstance[];
  /** More devices answered than maxDevices: the rest were not read. */
  devicesTruncated: boolean;
}

const OBJECT_DEVICE = 8;
const PROP_DESCRIPTION = 28;
const PROP_OBJECT_LIST = 76;
const PROP_OBJECT_NAME = 77;
const PROP_PRESENT_VALUE = 85;
const PROP_UNITS = 117;
/** Object types with a units property (135 clause 12): analog input/output/value, loop, accumulator, pulse converter, integer, large analog, positive integer values. */
const WITH_UNITS = new Set([0, 1, 2, 12, 23, 24, 45, 46, 48]);
/** Requests in a row a device leaves unanswered (or object-list elements it refuses) before the scan stops reading it. */
const SILENT_IN_A_ROW = 3;
/** BACnetErrorCode unknown-property: the object has no such property, which is no problem for a scan. */
const UNKNOWN_PROPERTY = 32;
/** BACnetErrorClass services: the device does not do the service asked. */
const ERROR_CLASS_SERVICES = 5;

type Reply = BacnetAnswer | { kind: 'timeout' };

export class BacnetScan {
  readonly #request: BacnetScanRequest;
  readonly #codec: BacnetScanCodec;
  readonly #onProgress: () => void;
  #transport: UdpTransport | undefined;
  #invokeId = 0;

  constructor(request: BacnetScanRequest, codec: BacnetScanCodec, onProgress: () => void = () => undefined) {
    this.#request = request;
    this.#codec = codec;
    this.#onProgress = onProgress;
  }

  async run(): Promise<BacnetScanResult> {
    const transport = udpTransport({ device: 'the scan\'s UDP socket', bindPort: this.#request.localPort, broadcast: true, connectTimeoutMs: 5_000 });
    this.#transport = transport;
    await transport.open();
    try {
      const { devices, duplicates, truncated } = await this.#discover();
      for (const device of devices) await this.#readDevice(device);
      return { devices, duplicates, devicesTruncated: truncated };
    } finally {
      await transport.close();
    }
  }

  /** Who-Is, and the I-Ams within the timeout after it, each device once, in order of instance. */
  async #discover(): Promise<{ devices: ScannedDevice[]; duplicates: DuplicateInstance[]; truncated: boolean }> {
    const { host, port, broadcast, global, range, timeoutMs, retries, maxDevices } = this.#request;
    const whoIs = this.#codec.whoIs(range, broadcast, global);
    const found = new Map<number, ScannedDevice>();
    const duplicates = new Map<string, DuplicateInstance>();
    let truncated = false;
    for (let attempt = 0; attempt <= retries && !truncated; attempt++) {
      // One device asked by its address, and no router asked to pass it on: asking again only repeats its answer.
      if (!broadcast && !global && found.size > 0) break;
      await this.#transport!.sendTo(whoIs, host, port);
      const deadline = systemClock.monotonicMs() + timeoutMs;
      for (let d = await this.#receive(deadline); d; d = await this.#receive(deadline)) {
        const answer = this.#codec.decode(d.bytes);
        if (answer.kind !== 'i-am') continue;
        const known = found.get(answer.device);
        if (known) {
          // The same device again (an answer to the next Who-Is), or another one with its instance.
          const where = `${d.address}:${d.port}/${answer.route ? `${answer.route.network}:${answer.route.mac.join('.')}` : ''}`;
          const first = `${known.address}:${known.port}/${known.route ? `${known.route.network}:${known.route.mac.join('.')}` : ''}`;
          // At most maxDevices of them, as devices: a flood of I-Ams claiming one instance through ever other routes is not a report.
          if (where !== first && !duplicates.has(where) && duplicates.size < maxDevices) duplicates.set(where, { instance: answer.device, address: d.address, port: d.port, ...(answer.route ? { route: answer.route } : {}) });
          continue;
        }
        // A device that ignores the Who-Is limits is not one the operator asked for.
        if (range && (answer.device < range.low || answer.device > range.high)) continue;
        if (found.size === maxDevices) {
          truncated = true;
          continue;
        }
        found.set(answer.device, {
          instance: answer.device, address: d.address, port: d.port, maxApdu: answer.maxApdu, segmentation: answer.segmentation, vendor: answer.vendor,
          ...(answer.route ? { route: answer.route } : {}), objects: [],
        });
      }
      this.#onProgress();
    }
    return { devices: [...found.values()].sort((a, b) => a.instance - b.instance), duplicates: [...duplicates.values()], truncated };
  }

  async #readDevice(device: ScannedDevice): Promise<void> {
    const ids = await this.#objectList(device);
    if (ids === undefined) return;
    const name = await this.#read(device, OBJECT_DEVICE, device.instance, PROP_OBJECT_NAME);
    if (name.kind === 'ack' && typeof name.values[0] === 'string') device.name = name.values[0];
    const silence = { inARow: 0 };
    for (const id of ids) {
      const { objectType, instance } = splitObjectId(id);
      const object: ScannedObject = { objectType, instance };
      const wanted: Array<[number, string]> = [[PROP_OBJECT_NAME, 'object-name'], [PROP_PRESENT_VALUE, 'present-value']];
      if (WITH_UNITS.has(objectType)) wanted.push([PROP_UNITS, 'units']);
      wanted.push([PROP_DESCRIPTION, 'description']);
      const problems: string[] = [];
      const read = await this.#readObject(device, object, wanted, problems, silence);
      if (problems.length > 0) object.problems = problems;
      if (!read) {
        device.unreadable = `stopped answering (${SILENT_IN_A_ROW} requests in a row unanswered) after ${device.objects.length} object(s)`;
        return;
      }
      device.objects.push(object);
    }
  }

  /**
   * The `wanted` properties of one object into `object`: by one ReadPropertyMultiple while the device
   * takes them, else one ReadProperty each. False when the device stopped answering.
   */
  async #readObject(device: ScannedDevice, object: ScannedObject, wanted: Array<[number, string]>, problems: string[], silence: { inARow: number }): Promise<boolean> {
    const { objectType, instance } = object;
    const labels = new Map(wanted);
    const take = (property: number, value: BacnetValue): void => {
      if (property === PROP_OBJECT_NAME && typeof value === 'string') object.name = value;
      else if (property === PROP_DESCRIPTION && typeof value === 'string') object.description = value;
      else if (property === PROP_UNITS && typeof value === 'number') object.units = value;
      else if (property === PROP_PRESENT_VALUE) object.presentValue = value;
    };
    const refused = (property: number, reply: Reply): void => {
      if (!(reply.kind === 'error' && reply.errorCode === UNKNOWN_PROPERTY)) problems.push(`${labels.get(property)}: ${describeReply(reply, this.#request)}`);
    };
    if (device.propertiesRead !== 'ReadProperty') {
      const reply = await this.#exchange(device, (invokeId) => this.#codec.readMultiple(objectType, instance, wanted.map(([p]) => p), invokeId, device.route));
      silence.inARow = reply.kind === 'timeout' ? silence.inARow + 1 : 0;
      if (silence.inARow >= SILENT_IN_A_ROW) return false;
      if (reply.kind === 'ack-multiple') {
        device.propertiesRead = 'ReadPropertyMultiple';
        for (const result of reply.results) {
          if ('value' in result) take(result.property, result.value);
          else refused(result.property, { kind: 'error', invokeId: reply.invokeId, errorClass: result.errorClass, errorCode: result.errorCode });
        }
        return true;
      }
      if (reply.kind === 'timeout') {
        for (const [property] of wanted) refused(property, reply);
        return true;
      }
      // A device without ReadPropertyMultiple rejects it (unrecognized-service) or refuses the service
      // (an Error of class services): ReadProperty from now on. Anything else (an Abort: the answer did
      // not fit one APDU) is this object's: its properties one by one.
      const noService = reply.kind === 'reject' || (reply.kind === 'error' && reply.errorClass === ERROR_CLASS_SERVICES);
      if (noService && device.propertiesRead === undefined) device.propertiesRead = 'ReadProperty';
    }
    for (const [property] of wanted) {
      const reply = await this.#read(device, objectType, instance, property);
      silence.inARow = reply.kind === 'timeout' ? silence.inARow + 1 : 0;
      if (silence.inARow >= SILENT_IN_A_ROW) return false;
      if (reply.kind === 'ack') take(property, reply.values[0] ?? null);
      else refused(property, reply);
    }
    return true;
  }

  /** The object identifiers of the device's object-list, its own device object left out, at most maxObjects. */
  async #objectList(device: ScannedDevice): Promise<number[] | undefined> {
    const { maxObjects } = this.#request;
    const isOwn = (id: number) => splitObjectId(id).objectType === OBJECT_DEVICE && splitObjectId(id).instance === device.instance;
    const whole = await this.#read(device, OBJECT_DEVICE, device.instance, PROP_OBJECT_LIST);
    if (whole.kind === 'ack' && whole.values.every((v) => typeof v === 'number')) {
      const all = whole.values as number[];
      device.objectCount = all.length;
      device.objectListRead = 'whole';
      const ids = all.filter((id) => !isOwn(id));
      device.truncated = ids.length > maxObjects;
      return ids.slice(0, maxObjects);
    }
    if (whole.kind === 'timeout') {
      device.unreadable = `answered Who-Is, but not ReadProperty of its object-list: ${describeReply(whole, this.#request)}`;
      return undefined;
    }
    const length = await this.#read(device, OBJECT_DEVICE, device.instance, PROP_OBJECT_LIST, 0);
    if (length.kind !== 'ack' || typeof length.values[0] !== 'number') {
      device.unreadable = `its object-list could not be read: whole ${describeReply(whole, this.#request)}; its length (index 0) ${describeReply(length, this.#request)}`;
      return undefined;
    }
    const count = length.values[0];
    device.objectCount = count;
    device.objectListRead = `by index, the whole list refused: ${describeReply(whole, this.#request)}`;
    const ids: number[] = [];
    let refusedInARow = 0;
    for (let index = 1; index <= count; index++) {
      if (ids.length === maxObjects) {
        device.truncated = true;
        break;
      }
      const element = await this.#read(device, OBJECT_DEVICE, device.instance, PROP_OBJECT_LIST, index);
      if (element.kind === 'ack' && typeof element.values[0] === 'number') {
        refusedInARow = 0;
        if (!isOwn(element.values[0])) ids.push(element.values[0]);
      } else if (element.kind === 'timeout') {
        device.unreadable = `stopped answering at object-list element ${index} of ${count}`;
        return ids;
      } else if (++refusedInARow === SILENT_IN_A_ROW) {
        // A length the device cannot back with elements (a wrong count) would cost a request per
        // element it claims: stop after a few refusals in a row.
        device.unreadable = `refused object-list elements ${index - SILENT_IN_A_ROW + 1} to ${index} of ${count}: ${describeReply(element, this.#request)}`;
        return ids;
      }
    }
    return ids;
  }

  /** One ReadProperty, with its retries. */
  #read(device: ScannedDevice, objectType: number, instance: number, property: number, index?: number): Promise<Reply> {
    return this.#exchange(device, (invokeId) => this.#codec.readProperty(objectType, instance, property, index, invokeId, device.route));
  }

  /**
   * One confirmed request, built by `frame` for each attempt's invoke id: the answer that carries that
   * invoke id and comes from the device, or timeout after every attempt. A routed device is asked
   * through its router (device.address), its network and MAC in the NPDU.
   */
  async #exchange(device: ScannedDevice, frame: (invokeId: number) => Uint8Array): Promise<Reply> {
    const { timeoutMs, retries } = this.#request;
    try {
      for (let attempt = 0; attempt <= retries; attempt++) {
        const invokeId = this.#invokeId = (this.#invokeId + 1) & 0xff;
        await this.#transport!.sendTo(frame(invokeId), device.address, device.port);
        const deadline = systemClock.monotonicMs() + timeoutMs;
        for (let d = await this.#receive(deadline); d; d = await this.#receive(deadline)) {
          // Another device's datagram, or a late answer to an attempt given up on: not this answer. (A
          // routed device's comes from its router; the invoke id, unique on this socket, tells them apart.)
          if (d.address !== device.address || d.port !== device.port) continue;
          const answer = this.#codec.decode(d.bytes);
          if ('invokeId' in answer && answer.invokeId === invokeId) return answer;
        }
      }
      return { kind: 'timeout' };
    } finally {
      this.#onProgress();
    }
  }

  /** The next datagram before `deadline` (monotonic ms), or undefined when none came. */
  async #receive(deadline: number): Promise<{ bytes: Uint8Array; address: string; port: number } | undefined> {
    const left = deadline - systemClock.monotonicMs();
    if (left <= 0) return undefined;
    try {
      return await this.#transport!.receive(left);
    } catch (err) {
      if (isWgError(err, 'WG_ERR_HAL_TIMEOUT')) return undefined;
      throw err;
    }
  }
}

function describeReply(reply: Reply, request: BacnetScanRequest): string {
  switch (reply.kind) {
    case 'timeout':
      return `no answer within ${request.timeoutMs} ms (${request.retries + 1} attempt${request.retries === 0 ? '' : 's'})`;
    case 'error':
      return `error ${errorText(reply.errorClass, reply.errorCode)}`;
    case 'reject':
      return `rejected: ${rejectText(reply.reason)}`;
    case 'abort':
      return `aborted: ${abortText(reply.reason)}`;
    case 'segmented':
      return 'answered in segments, which the scan does not accept';
    case 'ack':
      return 'answered with a value of another type';
    default:
      return 'an answer the scan cannot read';
  }
}
