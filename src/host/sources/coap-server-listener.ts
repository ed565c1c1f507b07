/**
 * The coap_server source's server (RFC 7252 over UDP, Block1 of RFC 7959), on a HAL UDP listener and
 * coap-packet's codec rather than node-coap's server, which cannot be bounded: node-coap 1.5 allocates
 * NUM × block size bytes for one Block1 request with a large NUM, keeps every Block1 transfer 247 s
 * without a limit, throws out of its message handler on a block out of order, and sends an empty ACK
 * on its own when the handler takes longer than piggybackReplyMs, so its ACK could not wait for the
 * ring. Here:
 * - a Confirmable POST or PUT to a configured resource gets its answer piggybacked on the ACK, 2.04
 *   Changed, once its body is committed to the ingress ring (a Non-confirmable one a NON 2.04 then);
 *   a retransmission meanwhile is ignored, one after it gets the same answer (coap-exchanges.ts);
 * - refused, each counted and logged (push-gate.ts) with the sender's address: an unknown path 4.04,
 *   another method 4.05, a body past `max_body` 4.13 (with Size1), a Content-Format not in
 *   `media_types` 4.15, an unknown critical option 4.02, a Block1 block out of order 4.08, over the
 *   rate or the queue 5.03 (Max-Age 1); a datagram that is not a CoAP message is dropped (a
 *   Confirmable one whose header can be read gets a Reset);
 * - an empty Confirmable message (a CoAP ping) gets a Reset; ACKs, Resets and responses are ignored
 *   (this server sends nothing Confirmable).
 */
import { generate, parse, type ParsedPacket } from 'coap-packet';
import type { ResolvedCoapServer, ResolvedLink } from '../config/resolved.js';
import { udpTransport, type UdpTransport } from '../../hal/udp.js';
import type { Datagram } from '../../hal/transport.js';
import { HalError } from '../../hal/errors.js';
import { WgError } from '../errors.js';
import { PushGate } from './push-gate.js';
import type { PushListenContext, PushListener, PushRefusal, PushSourceStatus } from './push-source.js';
import { CoapExchanges } from './coap-exchanges.js';
import { Block1Transfers, block1Value, parseBlock1, type Block1 } from './coap-block1.js';
import { mediaTypeOf } from './coap-media-types.js';
import { checkCoapFormat } from './coap-message-format.js';

const INFO = 30;
const WARN = 40;
/** Datagrams the socket may hold while the server is busy (the OS buffer holds more before it). */
const RX_LIMIT_BYTES = 1 << 20;

/** Option numbers (RFC 7252, 5.10) of the options this server reads or knows to ignore. */
const OPTION_BLOCK1 = 'Block1';
const OPTION_CONTENT_FORMAT = 'Content-Format';
const OPTION_URI_PATH = 'Uri-Path';

/** Critical options (odd numbers) this server reads or may ignore: If-Match 1, Uri-Host 3, If-None-Match 5, Uri-Port 7, Uri-Path 11, Uri-Query 15, Accept 17, Block2 23, Block1 27. */
const UNDERSTOOD = new Set([1, 3, 5, 7, 11, 15, 17, 23, 27]);
/** Proxy-Uri and Proxy-Scheme: this server is no proxy (RFC 7252 5.7.2: 5.05 Proxying Not Supported). */
const PROXY_OPTIONS = new Set([35, 39]);

/** What a refusal answers (RFC 7252 5.9, RFC 7959 2.9). */
const ANSWER: Record<PushRefusal, string> = {
  unknown_resource: '4.04', method: '4.05', too_large: '4.13', media_type: '4.15', rate: '5.03', queue: '5.03', stopping: '5.03', malformed: '4.00',
};

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE', '0.05': 'FETCH', '0.06': 'PATCH', '0.07': 'iPATCH' };

function senderOf(d: Datagram): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

function uint(value: Uint8Array): number {
  let v = 0;
  for (const b of value) v = v * 256 + b;
  return v;
}

function uintBytes(v: number): Buffer {
  if (v === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Buffer.from(bytes);
}

interface Route {
  readonly device: number;
  readonly point: number | null;
}

export class CoapServerListener implements PushListener {
  readonly #link: ResolvedLink & { transport: 'push' };
  readonly #coap: ResolvedCoapServer;
  readonly #context: PushListenContext;
  readonly #gate: PushGate;
  readonly #transport: UdpTransport;
  readonly #routes: ReadonlyMap<string, Route>;
  readonly #exchanges: CoapExchanges;
  readonly #blocks: Block1Transfers;
  readonly #maxBody: number;
  #running = false;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #messageId = Math.floor(Math.random() * 0x10000);
  readonly #own = { duplicates: 0, pings: 0, ignored: 0, block_continues: 0, reopened: 0, answers_failed: 0 };

  constructor(link: ResolvedLink & { transport: 'push' }, coap: ResolvedCoapServer, context: PushListenContext) {
    this.#link = link;
    this.#coap = coap;
    this.#context = context;
    this.#gate = new PushGate({ name: link.name, kind: link.kind, endpoint: link.endpoint }, link.limits, context);
    this.#maxBody = Math.min(link.maxBodyBytes, context.ingress.maxBodyBytes);
    this.#transport = udpTransport({ device: link.name, bindAddress: coap.bindAddress, bindPort: coap.port, connectTimeoutMs: link.connectTimeoutMs, rxLimitBytes: RX_LIMIT_BYTES });
    this.#routes = new Map(coap.resources.map((r) => [r.path, { device: r.device, point: r.point }]));
    this.#exchanges = new CoapExchanges(coap.maxCachedMessages);
    this.#blocks = new Block1Transfers(coap.maxBlockTransfers, this.#maxBody, coap.blockTimeoutMs);
  }

  /** The port bound, while listening (the one the OS picked for `port: 0`). */
  get port(): number | undefined {
    return this.#transport.local?.port;
  }

  async start(): Promise<void> {
    await this.#transport.open();
    this.#running = true;
    this.#gate.listening = true;
    const local = this.#transport.local!;
    this.#context.log(INFO, `coap_server listens on udp ${local.address}:${local.port}: ${this.#coap.resources.length} resources, at most ${this.#link.limits.ratePerSecond} bodies/s (burst ${this.#link.limits.burst}), bodies up to ${this.#maxBody} bytes`, {
      event: 'push.listening', link: this.#link.name, endpoint: `udp ${local.address}:${local.port}`, resources: this.#coap.resources.map((r) => `/${r.path}`),
    });
    this.#timer = setInterval(() => {
      this.#gate.flush();
      this.#blocks.expire(this.#context.clock.monotonicMs());
    }, 1000);
    this.#timer.unref();
    this.#loop = this.#receive();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#gate.stop();
    clearInterval(this.#timer);
    // Bodies accepted before this still go into the ring and are answered; new ones get 5.03 until the socket closes.
    await this.#transport.close();
    await this.#loop;
    this.#gate.listening = false;
    const s = this.status();
    this.#context.log(INFO, `coap_server stopped: ${s.accepted} bodies accepted, ${Object.values(s.refused).reduce((a, b) => a + b, 0)} refused`, {
      event: 'push.stopped', link: this.#link.name, accepted: s.accepted, refused: s.refused,
    });
  }

  status(): PushSourceStatus {
    return this.#gate.status({ ...this.#own, exchanges: this.#exchanges.size, exchanges_evicted: this.#exchanges.evicted, block_transfers: this.#blocks.size });
  }

  async #receive(): Promise<void> {
    while (this.#running) {
      let datagram: Datagram;
      try {
        datagram = await this.#transport.receive(Infinity);
      } catch (err) {
        if (!this.#running || (err instanceof HalError && err.code === 'WG_ERR_HAL_CLOSED')) return;
        // The socket failed under us, or more arrived than the server could take: open it again.
        this.#own.reopened++;
        this.#context.log(WARN, `coap_server's socket failed (${(err as Error).message}); it is opened again`, { event: 'push.socket_failed', link: this.#link.name });
        await new Promise((resolve) => setTimeout(resolve, this.#link.backoff.minMs));
        if (!this.#running) return;
        await this.#transport.open().catch(() => undefined);
        continue;
      }
      try {
        this.#handle(datagram);
      } catch (err) {
        // No datagram may end the server: what could not be handled is counted as malformed.
        this.#gate.refuse('malformed', senderOf(datagram), '', (err as Error).message);
      }
    }
  }

  #handle(d: Datagram): void {
    const sender = senderOf(d);
    const bytes = Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
    let packet: ParsedPacket;
    const wire = checkCoapFormat(bytes);
    try {
      if (!wire.ok) throw new Error(wire.error);
      packet = parse(bytes);
    } catch (err) {
      // A Confirmable message whose header can be read gets a Reset (RFC 7252 4.2), so its sender stops retransmitting.
      if (bytes.byteLength >= 4 && bytes[0]! >> 6 === 1 && ((bytes[0]! >> 4) & 3) === 0) this.#send(generate({ messageId: bytes.readUInt16BE(2), reset: true, code: '0.00' }), d);
      this.#gate.refuse('malformed', sender, '', (err as Error).message);
      return;
    }
    if (packet.ack || packet.reset) {
      this.#own.ignored++;
      return;
    }
    if (packet.code === '0.00') {
      this.#own.pings++;
      if (packet.confirmable) this.#send(generate({ messageId: packet.messageId, reset: true, code: '0.00' }), d);
      return;
    }
    if (!packet.code.startsWith('0.')) {
      this.#own.ignored++;
      return;
    }
    const now = this.#context.clock.monotonicMs();
    const key = `${sender}#${packet.messageId}`;
    const seen = this.#exchanges.seen(key, now);
    if (seen !== undefined) {
      this.#own.duplicates++;
      if (seen !== 'pending') this.#send(seen, d);
      return;
    }
    const path = packet.options.filter((o) => o.name === OPTION_URI_PATH).map((o) => o.value.toString('utf8')).join('/');
    const resource = `/${path}`;
    const answer = (code: string, options: Array<{ name: string; value: Buffer }> = []): void => {
      const reply = packet.confirmable
        ? generate({ messageId: packet.messageId, token: packet.token, code, ack: true, options })
        : generate({ messageId: this.#nextMessageId(), token: packet.token, code, confirmable: false, options });
      this.#exchanges.answer(key, reply, this.#context.clock.monotonicMs());
      this.#send(reply, d);
    };
    const refuse = (reason: PushRefusal, detail?: string, code = ANSWER[reason], options: Array<{ name: string; value: Buffer }> = []): void => {
      this.#gate.refuse(reason, sender, resource, detail);
      answer(code, options);
    };
    // By number: coap-packet names critical options this server does not act on (Proxy-Uri, OSCORE), which must not be ignored either (5.4.1).
    const numbers = wire.ok ? wire.options : [];
    const proxy = numbers.find((n) => PROXY_OPTIONS.has(n));
    if (proxy !== undefined) return refuse('malformed', `option ${proxy}: this server is no proxy`, '5.05');
    const unknownCritical = numbers.find((n) => n % 2 === 1 && !UNDERSTOOD.has(n));
    if (unknownCritical !== undefined) return refuse('malformed', `unknown critical option ${unknownCritical}`, '4.02');
    const route = this.#routes.get(path);
    if (route === undefined) return refuse('unknown_resource');
    if (packet.code !== '0.02' && packet.code !== '0.03') return refuse('method', METHODS[packet.code] ?? packet.code);
    const format = packet.options.find((o) => o.name === OPTION_CONTENT_FORMAT);
    const mediaType = format ? mediaTypeOf(uint(format.value)) : '';
    if (format && !this.#coap.mediaTypes.includes(mediaType)) return refuse('media_type', mediaType);
    let body: Uint8Array = packet.payload;
    let block1: Block1 | undefined;
    let admitted = false;
    const block1Option = packet.options.find((o) => o.name === OPTION_BLOCK1);
    if (block1Option) {
      block1 = parseBlock1(block1Option.value);
      if (block1 === undefined) return refuse('malformed', 'Block1 option with SZX 7 or longer than 3 bytes', '4.00');
      if (this.#coap.maxBlockTransfers === 0 && (block1.more || block1.num > 0)) return refuse('too_large', 'Block1 transfers are off (block_transfers: 0)', '4.13', [{ name: 'Size1', value: uintBytes(this.#maxBody) }]);
      if (block1.more && !this.#gate.allow(sender, resource)) return answer('5.03', [{ name: 'Max-Age', value: uintBytes(1) }]);
      // The last block is admitted before it is taken: refused (over the rate, the queue full), the
      // transfer stays, and the sender may send that block again after Max-Age instead of all of them.
      if (!block1.more) {
        if (this.#gate.admit(sender, resource) !== undefined) return answer('5.03', [{ name: 'Max-Age', value: uintBytes(1) }]);
        admitted = true;
      }
      const outcome = this.#blocks.take(`${sender} ${path}`, block1, packet.payload, now);
      if (admitted && outcome.kind !== 'complete') {
        this.#gate.release();
        admitted = false;
      }
      if (outcome.kind === 'continue') {
        this.#own.block_continues++;
        return answer('2.31', [{ name: OPTION_BLOCK1, value: Buffer.from(block1Value(block1)) }]);
      }
      if (outcome.kind === 'incomplete') return refuse('malformed', `Block1 block ${block1.num} does not continue a transfer`, '4.08');
      if (outcome.kind === 'too_large') return refuse('too_large', `Block1 transfer past ${this.#maxBody} bytes`, '4.13', [{ name: 'Size1', value: uintBytes(this.#maxBody) }]);
      if (outcome.kind === 'busy') return refuse('queue', `${this.#coap.maxBlockTransfers} Block1 transfers in progress already`);
      body = outcome.body;
    }
    if (body.byteLength > this.#maxBody) {
      if (admitted) this.#gate.release();
      return refuse('too_large', `${body.byteLength} bytes`, '4.13', [{ name: 'Size1', value: uintBytes(this.#maxBody) }]);
    }
    if (!admitted && this.#gate.admit(sender, resource) !== undefined) return answer('5.03', [{ name: 'Max-Age', value: uintBytes(1) }]);
    this.#exchanges.pend(key);
    const echo = block1 ? [{ name: OPTION_BLOCK1, value: Buffer.from(block1Value({ num: block1.num, more: false, szx: block1.szx })) }] : [];
    void this.#gate.commit({
      device: route.device, ...(route.point !== null ? { point: route.point } : {}), sender, resource, mediaType,
      body: body === packet.payload ? body.slice() : body, ts: this.#context.clock.wallMs(),
    }).then((written) => answer(written ? '2.04' : '5.03', written ? echo : [{ name: 'Max-Age', value: uintBytes(1) }]));
  }

  #nextMessageId(): number {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    return this.#messageId;
  }

  #send(reply: Uint8Array, to: Datagram): void {
    this.#transport.sendTo(reply, to.address, to.port).catch(() => {
      // Closed while stopping, or the OS refused this one datagram: the sender retransmits.
      this.#own.answers_failed++;
    });
  }
}

export function coapServerListener(link: ResolvedLink, context: PushListenContext): CoapServerListener {
  if (link.transport !== 'push' || link.coap === undefined) {
    throw new WgError('WG_ERR_CONFIG_INVALID', { link: link.name, detail: 'a coap_server link without its server settings' });
  }
  return new CoapServerListener(link, link.coap, context);
}
