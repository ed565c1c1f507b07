/**
 * A BACnet/IP device simulator whose encoding is not ours: @bacnet-js/client (an independent
 * TypeScript BACnet stack) serving a table of objects on a loopback UDP port, answering ReadProperty
 * and ReadPropertyMultiple from the table and an Error for what it lacks (unknown object or
 * property), as a device does. WriteProperty of a commandable object's present-value goes into its
 * priority array as ASHRAE 135, 19.2 says (the value at the request's priority, 16 when it names
 * none; Null empties the slot; the present-value is the highest slot given, else the relinquish
 * default), served back as priority-array (87) and relinquish-default (104); a write of anything else
 * is refused with write-access-denied, as a device refuses an input. Modes let a test make it stop answering or answer every request with
 * an Error. For bytes no stack would send (malformed datagrams), `startGarbageDevice` is a plain UDP
 * socket.
 */
import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import bacnetJs from '@bacnet-js/client';
import type { BACNetAppData, BACNetReadAccess } from '@bacnet-js/client';
import { serveCov, type CovServer } from './bacnet-cov-server.js';

// bacnet-js's own APDU and NPDU encoders, for the one answer its client has no method for (an Abort).
const require = createRequire(import.meta.url);
const bacnetApdu = require('@bacnet-js/client/dist/lib/apdu.js') as { encodeAbort(buffer: EncodeBuffer, type: number, invokeId: number, reason: number): void };
const bacnetNpdu = require('@bacnet-js/client/dist/lib/npdu.js') as { encode(buffer: EncodeBuffer, control: number, receiver: unknown): void };
interface EncodeBuffer { buffer: Buffer; offset: number }

// A CommonJS package: its class is the default export's `default`, its enums beside it.
const { default: BACnetClient, ApplicationTag, ErrorClass, ErrorCode, AbortReason, PduType } = bacnetJs;
/** BACnetArrayIndex "all": the whole value, no index given (bacnet-js's ASN1_ARRAY_ALL). */
const ARRAY_ALL = 0xffffffff;

export interface SimObject {
  type: number;
  instance: number;
  /** Property identifier → its value, as bacnet-js encodes application data. */
  properties: Record<number, BACNetAppData[]>;
  /** A commandable object: its present-value is written through a priority array (19.2). */
  commandable?: boolean;
}

/** A WriteProperty the device received, as bacnet-js decoded it. */
export interface ReceivedWrite {
  type: number;
  instance: number;
  property: number;
  /** 1-16; 16 when the request named none (15.9.1.1.5). */
  priority: number;
  value: BACNetAppData[];
}

export type DeviceMode = 'answer' | 'silent' | 'error';

export interface BacnetDevice {
  readonly port: number;
  /** Requests received (ReadProperty and ReadPropertyMultiple), in every mode. */
  readonly requests: { readProperty: number; readPropertyMultiple: number };
  /** WriteProperty requests received, in order. */
  readonly writes: ReceivedWrite[];
  /** Leaves the next `n` WriteProperty requests unanswered and unapplied, as if the datagram were lost (counted in `writes` all the same). */
  dropWrites(n: number): void;
  /** A commandable object's priority array: slot i is priority i + 1, null where relinquished. */
  priorityArray(type: number, instance: number): Array<BACNetAppData | null>;
  setMode(mode: DeviceMode): void;
  /** With `{ cov: true }`: its SubscribeCOV service (bacnet-cov-server.ts); without, bacnet-js refuses SubscribeCOV. */
  readonly cov?: CovServer;
  /** Changes a value the device serves from now on. */
  set(type: number, instance: number, property: number, value: BACNetAppData[]): void;
  close(): Promise<void>;
}

export const real = (value: number): BACNetAppData[] => [{ type: ApplicationTag.REAL, value }];
export const enumerated = (value: number): BACNetAppData[] => [{ type: ApplicationTag.ENUMERATED, value }];
export const boolean = (value: boolean): BACNetAppData[] => [{ type: ApplicationTag.BOOLEAN, value }];

export const characterString = (value: string): BACNetAppData[] => [{ type: ApplicationTag.CHARACTER_STRING, value }];
export const unsigned = (value: number): BACNetAppData[] => [{ type: ApplicationTag.UNSIGNED_INTEGER, value }];

export interface DeviceOptions {
  /** Serve SubscribeCOV (bacnet-cov-server.ts); without it bacnet-js refuses SubscribeCOV. */
  cov?: boolean;
  /** Loopback address to serve on (default 127.0.0.1); another 127.x address lets devices share a port. */
  address?: string;
  /** UDP port (default: a free one). */
  port?: number;
  /** Also hear Who-Is sent to this broadcast address on the device's port (loopback delivers a broadcast only to sockets bound to it). */
  broadcastAddress?: string;
  /** Vendor identifier in its I-Am (default 555). */
  vendorId?: number;
  /** false: reject ReadPropertyMultiple as unrecognized-service, as a device without it does (default true). */
  readMultiple?: boolean;
  /** A wrong object-list length to claim at index 0 (a device with a bug), its elements staying what they are. */
  claimedObjectListLength?: number;
  /** 'abort': refuse the object-list read whole with Abort segmentation-not-supported, as a device whose list does not fit one APDU. */
  wholeObjectList?: 'answer' | 'abort';
}

/** A free UDP port on loopback: bound, read back, released (bacnet-js takes a port number, not 0). */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, address);
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startBacnetDevice(deviceInstance: number, objects: SimObject[], options: DeviceOptions = {}): Promise<BacnetDevice> {
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? await freeUdpPort();
  const client = new BACnetClient({ port, interface: address, broadcastAddress: '127.255.255.255', apduTimeout: 1000, reuseAddr: false });
  client.on('error', () => undefined); // a datagram it cannot parse is its problem, not the test's
  await new Promise<void>((resolve) => client.on('listening', () => resolve()));
  let mode: DeviceMode = 'answer';
  const requests = { readProperty: 0, readPropertyMultiple: 0 };
  const table = new Map(objects.map((o) => [`${o.type}:${o.instance}`, o]));
  const device: SimObject = table.get(`8:${deviceInstance}`) ?? { type: 8, instance: deviceInstance, properties: { 77: characterString(`sim-${deviceInstance}`) } };
  table.set(`8:${deviceInstance}`, device);
  const cov = options.cov ? serveCov(client, table, deviceInstance, () => mode === 'answer') : undefined;
  // The object-list (76): every object the device holds, its device object first, as 12.11.13 asks.
  device.properties[76] ??= [device, ...objects.filter((o) => o !== device)].map((o) => ({ type: ApplicationTag.OBJECTIDENTIFIER, value: { type: o.type, instance: o.instance } }));

  client.on('whoIs', (content) => {
    const { lowLimit, highLimit } = (content.payload ?? {}) as { lowLimit?: number; highLimit?: number };
    if (lowLimit !== undefined && highLimit !== undefined && (deviceInstance < lowLimit || deviceInstance > highLimit)) return;
    client.iAmResponse(content.header!.sender, deviceInstance, 3, options.vendorId ?? 555); // 3: no-segmentation
  });
  let ear: Socket | undefined;
  if (options.broadcastAddress) {
    // Hand what the broadcast address hears to bacnet-js as if its own socket had: it decodes and
    // answers it, to the sender, from its own address.
    ear = createSocket({ type: 'udp4', reuseAddr: true });
    ear.bind(port, options.broadcastAddress);
    await once(ear, 'listening');
    const transport = (client as unknown as { _transport: EventEmitter })._transport;
    ear.on('message', (message: Buffer, from) => transport.emit('message', message, `${from.address}:${from.port}`));
  }

  client.on('readProperty', (content) => {
    requests.readProperty++;
    if (mode === 'silent') return;
    const { objectId, property } = content.payload;
    const sender = content.header!.sender;
    const object = table.get(`${objectId.type}:${objectId.instance}`);
    if (mode === 'error') return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.DEVICE, ErrorCode.OPERATIONAL_PROBLEM);
    if (!object) return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT);
    const value = object.properties[property.id];
    if (!value) return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.PROPERTY, ErrorCode.UNKNOWN_PROPERTY);
    if (property.index === ARRAY_ALL && property.id === 76 && options.wholeObjectList === 'abort') {
      const buffer: EncodeBuffer = { buffer: Buffer.alloc(1482), offset: 4 };
      bacnetNpdu.encode(buffer, 0, sender);
      bacnetApdu.encodeAbort(buffer, PduType.ABORT | 1, content.invokeId!, AbortReason.SEGMENTATION_NOT_SUPPORTED); // 1: sent by the server
      return client.sendBvlc(sender, buffer);
    }
    if (property.index !== ARRAY_ALL) {
      // A BACnetARRAY (12.11.13 and 21): element 0 is its length, 1..n its elements.
      if (property.index === 0) {
        const length = property.id === 76 ? options.claimedObjectListLength ?? value.length : value.length;
        return client.readPropertyResponse(sender, content.invokeId!, objectId, property, unsigned(length));
      }
      const element = value[property.index - 1];
      if (!element) return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.PROPERTY, ErrorCode.INVALID_ARRAY_INDEX);
      return client.readPropertyResponse(sender, content.invokeId!, objectId, property, [element]);
    }
    client.readPropertyResponse(sender, content.invokeId!, objectId, property, value);
  });

  const arrays = new Map<string, Array<BACNetAppData | null>>();
  const PRESENT_VALUE = 85;
  const PRIORITY_ARRAY = 87;
  const RELINQUISH_DEFAULT = 104;
  for (const o of objects) {
    if (!o.commandable) continue;
    const slots = new Array<BACNetAppData | null>(16).fill(null);
    arrays.set(`${o.type}:${o.instance}`, slots);
    // The value it starts with is its relinquish default: what it holds with no command given.
    o.properties[RELINQUISH_DEFAULT] = o.properties[PRESENT_VALUE]!;
    o.properties[PRIORITY_ARRAY] = slots.map(() => ({ type: ApplicationTag.NULL, value: null }));
  }
  const writes: ReceivedWrite[] = [];
  let dropped = 0;

  client.on('writeProperty', (content) => {
    if (mode === 'silent') return;
    const sender = content.header!.sender;
    const { objectId, value } = content.payload;
    const key = `${objectId.type}:${objectId.instance}`;
    writes.push({ type: objectId.type, instance: objectId.instance, property: value.property.id, priority: value.priority, value: value.value });
    if (dropped > 0) {
      dropped--;
      return;
    }
    const object = table.get(key);
    const slots = arrays.get(key);
    if (mode === 'error') return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.DEVICE, ErrorCode.OPERATIONAL_PROBLEM);
    if (!object) return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT);
    if (!slots || value.property.id !== PRESENT_VALUE) return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.PROPERTY, ErrorCode.WRITE_ACCESS_DENIED);
    const written = value.value[0];
    slots[value.priority - 1] = !written || written.type === ApplicationTag.NULL ? null : written;
    const highest = slots.find((v) => v !== null);
    object.properties[PRESENT_VALUE] = highest ? [highest] : object.properties[RELINQUISH_DEFAULT]!;
    object.properties[PRIORITY_ARRAY] = slots.map((v) => v ?? { type: ApplicationTag.NULL, value: null });
    client.simpleAckResponse(sender, content.service!, content.invokeId!);
  });

  client.on('readPropertyMultiple', (content) => {
    requests.readPropertyMultiple++;
    if (mode === 'silent') return;
    const sender = content.header!.sender;
    if (options.readMultiple === false) {
      // bacnet-js has no Reject encoder: its three octets (20.1.8) are PDU type 6, invoke id, reason
      // 9 unrecognized-service; the NPDU and BVLC are bacnet-js's.
      const buffer: EncodeBuffer = { buffer: Buffer.alloc(1482), offset: 4 };
      bacnetNpdu.encode(buffer, 0, sender);
      buffer.buffer.set([0x60, content.invokeId!, 0x09], buffer.offset);
      buffer.offset += 3;
      return client.sendBvlc(sender, buffer);
    }
    if (mode === 'error') return client.errorResponse(sender, content.service!, content.invokeId!, ErrorClass.DEVICE, ErrorCode.OPERATIONAL_PROBLEM);
    const results: BACNetReadAccess[] = content.payload.properties.map(({ objectId, properties }) => {
      const object = table.get(`${objectId.type}:${objectId.instance}`);
      return {
        objectId,
        values: properties.map((property) => {
          const value = object?.properties[property.id];
          if (value) return { property, value };
          const error = object ? { errorClass: ErrorClass.PROPERTY, errorCode: ErrorCode.UNKNOWN_PROPERTY } : { errorClass: ErrorClass.OBJECT, errorCode: ErrorCode.UNKNOWN_OBJECT };
          return { property, value: [{ type: ApplicationTag.ERROR, value: { type: 'BacnetError', ...error } }] };
        }),
      };
    });
    client.readPropertyMultipleResponse(sender, content.invokeId!, results);
  });

  return {
    port,
    requests,
    ...(cov ? { cov } : {}),
    writes,
    dropWrites(n) {
      dropped = n;
    },
    priorityArray: (type, instance) => [...(arrays.get(`${type}:${instance}`) ?? [])],
    setMode(next) {
      mode = next;
    },
    set(type, instance, property, value) {
      const object = table.get(`${type}:${instance}`);
      if (object) object.properties[property] = value;
      cov?.changed(type, instance);
    },
    async close() {
      client.close();
      if (ear) await new Promise<void>((resolve) => ear!.close(() => resolve()));
    },
  };
}

/**
 * A hostile "device": answers every datagram with bytes no BACnet stack sends (a BVLC whose length
 * lies, a truncated APDU, a Complex-ACK with another invoke id, random bytes), in turn.
 */
export async function startGarbageDevice(): Promise<{ port: number; received: () => number; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let received = 0;
  socket.on('message', (request: Buffer, from) => {
    const invokeId = request[8] ?? 0;
    const replies = [
      Buffer.from([0x81, 0x0a, 0x00, 0x40, 0x01, 0x00, 0x30, invokeId]), // length says 64, 8 bytes came
      Buffer.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x30, invokeId, 0x0e]), // an RPM-ACK that stops
      Buffer.from([0x81, 0x0a, 0x00, 0x0a, 0x01, 0x00, 0x30, (invokeId + 1) & 0xff, 0x0e, 0x0c]), // another invoke id
      Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 73 + received) & 0xff)), // not B/IP at all
    ];
    socket.send(replies[received++ % replies.length]!, from.port, from.address);
  });
  return {
    port: socket.address().port,
    received: () => received,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
