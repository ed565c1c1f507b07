/**
 * The host's face of the bacnet plugin's scan codec (plugins/bacnet/tools/scan.ts, built to
 * plugins/bacnet/build/scan.wasm): the frames `wasmgate scan bacnet` sends and what each datagram it
 * receives says, both made by WebAssembly from the plugin's own BVLC, NPDU and tag code. Loaded and
 * guarded as any plugin instance (ABI check, trap containment); called only from the scan's worker.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v8Engine } from '../engine/engine.js';
import { PluginInstance } from '../engine/plugin-instance.js';
import { decodeSamples } from '../engine/sample-batch.js';
import { Quality, SampleType } from '../engine/abi.js';
import { BUILTIN_PLUGIN_DIR } from '../plugin-build/build.js';

/** A value as the codec read it: a number, a bool (a binary present value), a text; null when not one of those. */
export type BacnetValue = number | boolean | string | null;

export type BacnetAnswer =
  | { kind: 'unreadable' }
  | { kind: 'i-am'; device: number; maxApdu: number; segmentation: number; vendor: number; route?: BacnetRoute }
  | { kind: 'ack'; invokeId: number; objectType: number; instance: number; property: number; index?: number; values: BacnetValue[] }
  | { kind: 'ack-multiple'; invokeId: number; objectType: number; instance: number; results: BacnetResult[] }
  | { kind: 'error'; invokeId: number; errorClass: number; errorCode: number }
  | { kind: 'reject'; invokeId: number; reason: number }
  | { kind: 'abort'; invokeId: number; reason: number }
  | { kind: 'segmented'; invokeId: number }
  | { kind: 'other' };

/** One property of a ReadPropertyMultiple-ACK: its value, or the device's error for it. */
export type BacnetResult = { property: number; value: BacnetValue } | { property: number; errorClass: number; errorCode: number };

/** Where a device behind a BACnet router is: its network number and its MAC address there (an MS/TP station: one octet). */
export interface BacnetRoute {
  network: number;
  mac: number[];
}

/** The detail kinds of scan_detail, in the plugin's numbering. */
const KINDS = ['unreadable', 'i-am', 'ack', 'error', 'reject', 'abort', 'segmented', 'other', 'ack-multiple'] as const;
const NO_INDEX = 0xffffffff;

export const SCAN_CODEC_WASM = join(BUILTIN_PLUGIN_DIR, 'bacnet', 'build', 'scan.wasm');

export class BacnetScanCodec {
  readonly #instance: PluginInstance;

  constructor(instance: PluginInstance) {
    this.#instance = instance;
  }

  static load(file = SCAN_CODEC_WASM): BacnetScanCodec {
    const compiled = v8Engine.compile(readFileSync(file), 'bacnet-scan', file, 1.0);
    const instance = new PluginInstance(compiled);
    instance.configure({});
    return new BacnetScanCodec(instance);
  }

  /**
   * A Who-Is of devices `range.low` to `range.high` (every device without one); Original-Broadcast-NPDU
   * when `broadcast`; to every network (DNET 0xffff, which routers pass on) when `global`.
   */
  whoIs(range: { low: number; high: number } | undefined, broadcast: boolean, global: boolean): Uint8Array {
    return this.#instance.callOwn('scan_who_is', [range?.low ?? -1, range?.high ?? -1, broadcast ? 1 : 0, global ? 1 : 0]);
  }

  /** A ReadProperty of one property (element `index` of an array property when given), with `invokeId`; through a router to `route`. */
  readProperty(objectType: number, instance: number, property: number, index: number | undefined, invokeId: number, route?: BacnetRoute): Uint8Array {
    const args = [objectType, instance, property, index ?? -1, invokeId & 0xff, route?.network ?? -1];
    return this.#instance.callOwn('scan_read', args, Uint8Array.from(route?.mac ?? []));
  }

  /** A ReadPropertyMultiple of `properties` of one object, with `invokeId`; through a router to `route`. */
  readMultiple(objectType: number, instance: number, properties: readonly number[], invokeId: number, route?: BacnetRoute): Uint8Array {
    const mac = route?.mac ?? [];
    const input = new Uint8Array(mac.length + properties.length * 4);
    input.set(mac);
    const view = new DataView(input.buffer);
    properties.forEach((p, i) => view.setUint32(mac.length + i * 4, p, true));
    return this.#instance.callOwn('scan_read_multiple', [mac.length, properties.length, objectType, instance, invokeId & 0xff, route?.network ?? -1], input);
  }

  decode(datagram: Uint8Array): BacnetAnswer {
    const batch = this.#instance.callOwn('scan_decode', [], datagram);
    const detail = this.#instance.callOwn('scan_detail', []);
    const d = new DataView(detail.buffer);
    const [kind, invokeId, a, b, c, e, network, macLength] = [0, 4, 8, 12, 16, 20, 24, 28].map((at) => d.getUint32(at, true)) as [number, number, number, number, number, number, number, number];
    switch (KINDS[kind]) {
      case 'i-am': {
        const route = network !== NO_INDEX ? { route: { network, mac: [...detail.subarray(32, 32 + macLength)] } } : {};
        return { kind: 'i-am', device: a, maxApdu: b, segmentation: c, vendor: e, ...route };
      }
      case 'ack': {
        const values = decodeSamples(batch).map((s): BacnetValue => {
          if (s.quality !== Quality.good) return null;
          if (s.type === SampleType.bool) return s.value === 1;
          return s.value;
        });
        return { kind: 'ack', invokeId, objectType: a >>> 22, instance: a & 0x3fffff, property: b, ...(c !== NO_INDEX ? { index: c } : {}), values };
      }
      case 'ack-multiple': {
        // The first value of each property; a refused one is a bad sample holding class x 65536 + code.
        const results = new Map<number, BacnetResult>();
        for (const s of decodeSamples(batch)) {
          if (results.has(s.point)) continue;
          if (s.quality === Quality.good) results.set(s.point, { property: s.point, value: s.type === SampleType.bool ? s.value === 1 : s.value });
          else if (typeof s.value === 'number' && !Number.isNaN(s.value)) results.set(s.point, { property: s.point, errorClass: Math.floor(s.value / 65536), errorCode: s.value % 65536 });
          else results.set(s.point, { property: s.point, value: null });
        }
        return { kind: 'ack-multiple', invokeId, objectType: a >>> 22, instance: a & 0x3fffff, results: [...results.values()] };
      }
      case 'error':
        return { kind: 'error', invokeId, errorClass: a, errorCode: b };
      case 'reject':
        return { kind: 'reject', invokeId, reason: a };
      case 'abort':
        return { kind: 'abort', invokeId, reason: a };
      case 'segmented':
        return { kind: 'segmented', invokeId };
      case 'other':
        return { kind: 'other' };
      default:
        return { kind: 'unreadable' };
    }
  }
}

/** An object identifier as read from an object-list: type in the top 10 bits, instance in the low 22. */
export function splitObjectId(id: number): { objectType: number; instance: number } {
  return { objectType: Math.floor(id / 0x400000), instance: id % 0x400000 };
}
