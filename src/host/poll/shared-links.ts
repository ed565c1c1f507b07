/**
 * The gateway's links across its pipelines: one arbiter per line. Two pipelines with devices on one
 * serial bus, or on one serial device server, join the same arbiter and take turns on the line; each
 * opening the port itself would fail on the port's lock, or, on a device server, send over the other.
 * Modbus TCP connections stay each pipeline's own: a Modbus TCP device serves several connections.
 *
 * A pipeline leaving (stopping) leaves the link to the others; the last one to leave shuts it down.
 * The commissioning tools borrow a running daemon's link here (control socket), as a guest.
 */
import { realpathSync } from 'node:fs';
import type { ResolvedLink } from '../config/resolved.js';
import type { LinkArbiter } from './link-arbiter.js';

/** A pipeline's hold on a link: the arbiter it uses, until it leaves. */
export interface LinkLease {
  readonly arbiter: LinkArbiter;
  /** Leaves the link; the last one out shuts it down (which ends the reads still waiting on it). */
  leave(): Promise<void>;
}

/** How a pipeline gets the arbiter of each of its links. */
export interface LinkJoin {
  /** `owner` is the pipeline's name; `make` builds the arbiter when nobody holds the line yet. */
  join(link: ResolvedLink, owner: string, make: () => LinkArbiter): LinkLease;
}

/** Where a link goes: a serial path, or host:port. */
export function linkEndpoint(link: ResolvedLink): string {
  if (link.transport === 'push') return link.endpoint;
  return link.transport === 'serial' ? link.path : `${link.host}:${link.port}`;
}

/**
 * Which line a bus goes to, whoever names it: a serial port by the device it resolves to, so that
 * `/dev/serial/by-id/...` in one pipeline and `/dev/ttyUSB0` in another are one line (two arbiters
 * would open it twice, and the second fails on the port's lock). A port that is not there (not
 * plugged in, or checked on another machine) counts by the path written.
 */
export function lineKey(link: ResolvedLink): string {
  // A push source's socket: two sources cannot bind one port, which the checks across pipelines see by this key.
  if (link.transport === 'push') return `push:${link.endpoint}`;
  if (link.transport !== 'serial') return `tcp:${link.host}:${link.port}`;
  let path = link.path;
  try {
    path = realpathSync(link.path);
  } catch {
    // Not there: the written path is all there is to compare.
  }
  return `serial:${path}`;
}

interface Entry {
  arbiter: LinkArbiter;
  kind: string;
  endpoint: string;
  users: number;
}

export class SharedLinks implements LinkJoin {
  readonly #entries = new Map<string, Entry>();

  join(link: ResolvedLink, owner: string, make: () => LinkArbiter): LinkLease {
    // A bus is one line whoever names it; a Modbus TCP connection is its pipeline's.
    const key = link.framing === 'rtu' ? lineKey(link) : `${owner}/${link.name}`;
    let entry = this.#entries.get(key);
    if (entry) entry.arbiter.serve(link.devices.length);
    else this.#entries.set(key, (entry = { arbiter: make(), kind: link.kind, endpoint: linkEndpoint(link), users: 0 }));
    entry.users++;
    return this.#lease(key, entry, link.devices.length);
  }

  /** The lines held now: their kind (the first pipeline's), where they go, their arbiter. */
  held(): { kind: string; endpoint: string; arbiter: LinkArbiter }[] {
    return [...this.#entries.values()].map(({ kind, endpoint, arbiter }) => ({ kind, endpoint, arbiter }));
  }

  /**
   * A LinkJoin that gives every link of a visiting pipeline (one probe, one scan) the arbiter `arbiter`
   * already serves, as long as some pipeline still holds it: the visitor never opens nor closes it.
   */
  borrow(arbiter: LinkArbiter): LinkJoin {
    const held = [...this.#entries.entries()].find(([, e]) => e.arbiter === arbiter);
    return {
      join: (link, _owner, make) => {
        // Let go in the meantime (its pipeline stopped): the visitor gets a link of its own, closed
        // for good, so it reports the link down instead of opening the port behind the daemon's back.
        if (!held || this.#entries.get(held[0]) !== held[1]) {
          const orphan = make();
          void orphan.shutdown();
          return { arbiter: orphan, leave: async () => undefined };
        }
        held[1].users++;
        arbiter.serve(link.devices.length);
        const lease = this.#lease(held[0], held[1], link.devices.length);
        // The visitor's pollers are halted when it leaves: their waits for a turn end at once.
        return { arbiter: lease.arbiter, leave: () => (arbiter.dismissGuests(), lease.leave()) };
      },
    };
  }

  #lease(key: string, entry: Entry, devices: number): LinkLease {
    let left = false;
    return {
      arbiter: entry.arbiter,
      leave: async () => {
        if (left) return;
        left = true;
        entry.arbiter.serve(-devices);
        if (--entry.users > 0) return;
        this.#entries.delete(key);
        await entry.arbiter.shutdown();
      },
    };
  }
}
