/**
 * A BACnet router in front of one device, for the scan's routed path: what a router does to a message
 * (clause 6.5), with @bacnet-js/client's own NPDU and BVLC codec, in front of a @bacnet-js/client
 * device (bacnet-device.ts) that stands for an MS/TP station on network `network` at MAC `mac`.
 * No npm package is a router, and no Debian package runs one a test can start; this one routes only:
 * - a Who-Is to every network (DNET 0xffff) goes on to the device, stripped of its DNET; a Who-Is to
 *   the IP network only (no DNET) is not for the networks behind a router, and stops here;
 * - a message for network `network` at MAC `mac` (DNET, DADR) goes on to the device, stripped of them;
 * - whatever the device sends comes back to the last asker with SNET `network` and SADR `mac` added.
 * APDUs pass unchanged: every one the scan reads is the device's own encoding.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
interface EncodeBuffer { buffer: Buffer; offset: number }
interface Target { net: number; adr?: number[] }
const npdu = require('@bacnet-js/client/dist/lib/npdu.js') as {
  decode(buffer: Buffer, offset: number): { len: number; funct: number; destination?: Target; source?: Target } | undefined;
  encode(buffer: EncodeBuffer, funct: number, destination?: Target, source?: Target, hopCount?: number): void;
};
const bvlc = require('@bacnet-js/client/dist/lib/bvlc.js') as { encode(buffer: Buffer, func: number, msgLength: number): number };

const ORIGINAL_UNICAST_NPDU = 0x0a;
/** Control bits a router keeps: expecting-reply and the priority (6.2.2); it sets DNET and SNET itself. */
const KEPT_CONTROL = 0x07;

export interface BacnetRouter {
  /** The router's B/IP port on 127.0.0.1: where the scan asks. */
  readonly port: number;
  /** Messages passed on to the device, and back. */
  readonly routed: { toDevice: number; fromDevice: number };
  close(): Promise<void>;
}

export async function startBacnetRouter(network: number, mac: number, devicePort: number): Promise<BacnetRouter> {
  const ipSide = await bound();
  const trunkSide = await bound();
  const routed = { toDevice: 0, fromDevice: 0 };
  let asker: { address: string; port: number } | undefined;

  const rewrap = (message: Buffer, destination?: Target, source?: Target): Buffer | undefined => {
    const header = npdu.decode(message, 4);
    if (!header) return undefined;
    const out: EncodeBuffer = { buffer: Buffer.alloc(1500), offset: 4 };
    npdu.encode(out, header.funct & KEPT_CONTROL, destination, source, destination ? 255 : 0);
    message.copy(out.buffer, out.offset, 4 + header.len);
    const length = out.offset + message.length - (4 + header.len);
    bvlc.encode(out.buffer, ORIGINAL_UNICAST_NPDU, length);
    return out.buffer.subarray(0, length);
  };

  ipSide.on('message', (message: Buffer, from) => {
    const header = npdu.decode(message, 4);
    const to = header?.destination;
    const forUs = to !== undefined && (to.net === 0xffff || (to.net === network && to.adr?.length === 1 && to.adr[0] === mac));
    if (!forUs) return;
    asker = { address: from.address, port: from.port };
    const onward = rewrap(message);
    if (!onward) return;
    routed.toDevice++;
    trunkSide.send(onward, devicePort, '127.0.0.1');
  });
  trunkSide.on('message', (message: Buffer) => {
    if (!asker) return;
    const back = rewrap(message, undefined, { net: network, adr: [mac] });
    if (!back) return;
    routed.fromDevice++;
    ipSide.send(back, asker.port, asker.address);
  });

  return {
    port: ipSide.address().port,
    routed,
    async close() {
      await Promise.all([ipSide, trunkSide].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}
