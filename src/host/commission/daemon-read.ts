/**
 * A probe or scan asked of the running daemon (control operation `read`): the same one-shot read as
 * stand-alone (one-shot-read.ts), but on the daemon's own link to that line, borrowed as a guest. So
 * it goes out on the port the daemon holds, driven as the daemon drives it, and its requests take
 * every other turn with the daemon's polls instead of colliding with them on the wire. Reads are
 * served one at a time: each starts a worker, and a gateway has little memory to spare.
 */
import { realpath } from 'node:fs/promises';
import { WgError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SharedLinks } from '../poll/shared-links.js';
import type { LinkArbiter } from '../poll/link-arbiter.js';
import { readOnce, type UnitReading } from './one-shot-read.js';
import { checkedTarget, type CommissionTarget, type TargetLink } from './commission-target.js';

export interface DaemonReading {
  /** The daemon's link the read went over (its name in status). */
  link: string;
  readings: UnitReading[];
}

/** Reads waiting behind the one in progress before another is refused as busy. */
const MOST_WAITING = 4;

export class DaemonReads {
  readonly #links: SharedLinks;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;

  constructor(links: SharedLinks, logger: Logger) {
    this.#links = links;
    this.#logger = logger;
  }

  /** `params.target` as the CLI sent it (checked here: any local client may send anything). */
  async read(params: unknown, signal?: AbortSignal): Promise<DaemonReading> {
    const target = checkedTarget((params as { target?: unknown } | null)?.target);
    const arbiter = await this.#find(target.link);
    if (!arbiter) throw new WgError('WG_ERR_CONTROL_NO_LINK', { detail: `the running daemon has no ${target.link.kind} link to ${where(target.link)}` });
    if (this.#pending > MOST_WAITING) throw new WgError('WG_ERR_CONTROL_BUSY', { detail: `${this.#pending} probe or scan reads are queued on this daemon already; try again when they are done` });
    this.#pending++;
    const turn = this.#queue.then(() => this.#readOn(arbiter, target, signal));
    this.#queue = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.#pending--;
    }
  }

  async #readOn(arbiter: LinkArbiter, target: CommissionTarget, signal?: AbortSignal): Promise<DaemonReading> {
    const log = this.#logger.child({ link: arbiter.link.name });
    const what = { units: target.units.length, function: target.range.function, address: target.range.address, count: target.range.count };
    // Its client went away while it waited its turn: nobody would read the answer.
    if (signal?.aborted) {
      log.info({ event: 'commission.read', ...what }, 'commissioning read dropped: its client went away before its turn');
      return { link: arbiter.link.name, readings: [] };
    }
    log.info({ event: 'commission.read', ...what }, 'commissioning read on the link, between its polls');
    const readings = await readOnce(target, log, { links: this.#links.borrow(arbiter), guest: true, ...(signal ? { signal } : {}) });
    if (signal?.aborted) log.info({ event: 'commission.read', ...what }, 'commissioning read ended early: its client went away');
    return { link: arbiter.link.name, readings };
  }

  /** The held link of the target's kind to its place; a serial port by its real path (by-id links). */
  async #find(link: TargetLink): Promise<LinkArbiter | undefined> {
    const held = this.#links.held().filter((h) => h.kind === link.kind);
    if (link.kind !== 'modbus_rtu') return held.find((h) => h.endpoint === where(link))?.arbiter;
    const wanted = await realpath(link.path).catch(() => link.path);
    for (const h of held) if (h.endpoint === link.path || (await realpath(h.endpoint).catch(() => h.endpoint)) === wanted) return h.arbiter;
    return undefined;
  }
}

function where(link: TargetLink): string {
  return link.kind === 'modbus_rtu' ? link.path : `${link.host}:${link.port}`;
}
