/**
 * PUBLISH packets (MQTT 3.1.1 §3.3, MQTT 5 §3.3) for the sink's data path, written into shared slabs
 * and handed to the socket once per batch.
 *
 * Why not MQTT.js's publish: per message it builds a packet object, clones it into its store, arms a
 * ping timer and writes each field as its own stream chunk (a dozen per user property), and mqtt-packet
 * builds a debug argument list per field. At the peer harness's load that was two thirds of the main
 * thread's garbage (about 13 KB per message) and a third of its CPU in the garbage collector
 * (bench/harness-load). Here a message costs its bytes in a 64 KiB slab and nothing else; the socket
 * gets one chunk per batch. MQTT.js keeps the connection, CONNECT/CONNACK, keepalive, the status
 * messages and the parsing of what the broker sends (the sink reads PUBACKs from its 'packetreceive').
 *
 * `publishBytes` is also what the sink checks against a broker's CONNACK Maximum Packet Size before
 * sending: a broker disconnects a client that sends a larger packet.
 */

export interface PublishFields {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** Sent before, on an earlier connection (MQTT 5 §3.3.1.1). */
  readonly dup: boolean;
  /** QoS 1 only; the sink sets it once it took one. */
  packetId: number;
  /** MQTT 5 has a property length (0 when there are none); 3.1.1 has none at all. */
  readonly v5: boolean;
  readonly properties?: {
    readonly messageExpiryInterval?: number;
    readonly userProperties?: Readonly<Record<string, string>>;
  };
}

const PUBLISH = 0x30;
const MESSAGE_EXPIRY_INTERVAL = 0x02;
const USER_PROPERTY = 0x26;
const SLAB_BYTES = 64 * 1024;

/** Bytes of a Variable Byte Integer holding `n` (1 to 4). */
function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function propertyBytes(p: PublishFields['properties']): number {
  if (!p) return 0;
  let bytes = p.messageExpiryInterval !== undefined ? 1 + 4 : 0;
  const user = p.userProperties;
  if (user) for (const key in user) bytes += 1 + 2 + Buffer.byteLength(key) + 2 + Buffer.byteLength(user[key]!);
  return bytes;
}

function remainingBytes(f: PublishFields, payloadBytes: number, props: number): number {
  return 2 + Buffer.byteLength(f.topic) + (f.qos > 0 ? 2 : 0) + (f.v5 ? varintBytes(props) + props : 0) + payloadBytes;
}

/** The whole packet's size on the wire. */
export function publishBytes(f: PublishFields): number {
  const remaining = remainingBytes(f, Buffer.byteLength(f.payload), propertyBytes(f.properties));
  return 1 + varintBytes(remaining) + remaining;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[at++] = byte;
  } while (n > 0);
  return at;
}

function writeString(buf: Buffer, at: number, s: string): number {
  const bytes = buf.write(s, at + 2, 'utf8');
  buf.writeUInt16BE(bytes, at);
  return at + 2 + bytes;
}

/** Writes the packet at `at` in `buf` (room checked by the caller); returns where it ends. */
function writePublish(buf: Buffer, at: number, f: PublishFields, payloadBytes: number, props: number): number {
  buf[at++] = PUBLISH | (f.dup ? 0x08 : 0) | (f.qos << 1) | (f.retain ? 1 : 0);
  at = writeVarint(buf, at, remainingBytes(f, payloadBytes, props));
  at = writeString(buf, at, f.topic);
  if (f.qos > 0) at = buf.writeUInt16BE(f.packetId, at);
  if (f.v5) {
    at = writeVarint(buf, at, props);
    const p = f.properties;
    if (p?.messageExpiryInterval !== undefined) {
      buf[at++] = MESSAGE_EXPIRY_INTERVAL;
      at = buf.writeUInt32BE(p.messageExpiryInterval, at);
    }
    const user = p?.userProperties;
    if (user) {
      for (const key in user) {
        buf[at++] = USER_PROPERTY;
        at = writeString(buf, at, key);
        at = writeString(buf, at, user[key]!);
      }
    }
  }
  if (typeof f.payload === 'string') at += buf.write(f.payload, at, 'utf8');
  else at += f.payload.copy(buf, at);
  return at;
}

/**
 * Packets waiting to be written, in order. Bytes handed to the socket are never written over: a full
 * slab is left to the socket and a new one begins.
 */
export class PublishSlab {
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #start = 0;
  #end = 0;
  /** Full slabs' unwritten parts, in order, before the current one's. */
  #full: Buffer[] = [];

  /** Appends a packet; returns its size (as `publishBytes`). */
  append(f: PublishFields): number {
    const payloadBytes = Buffer.byteLength(f.payload);
    const props = propertyBytes(f.properties);
    const remaining = remainingBytes(f, payloadBytes, props);
    const size = 1 + varintBytes(remaining) + remaining;
    if (size > this.#slab.length - this.#end) {
      if (this.#end > this.#start) this.#full.push(this.#slab.subarray(this.#start, this.#end));
      this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, size));
      this.#start = this.#end = 0;
    }
    this.#end = writePublish(this.#slab, this.#end, f, payloadBytes, props);
    return size;
  }

  /** Whether anything waits to be written. */
  get pending(): boolean {
    return this.#end > this.#start || this.#full.length > 0;
  }

  /** What waits, in order (usually one chunk), and the slab starts afresh after it. */
  take(): Buffer[] {
    const chunks = this.#full;
    this.#full = [];
    if (this.#end > this.#start) chunks.push(this.#slab.subarray(this.#start, this.#end));
    this.#start = this.#end;
    return chunks;
  }

  /** Forgets what waits (the connection it was meant for is gone). */
  discard(): void {
    this.#full = [];
    this.#start = this.#end;
  }
}
