/**
 * What an operator is told about one device beyond single errors: that it went silent (answered no
 * request of a whole poll cycle), that it answers again, that it floods its link. Each is said once per
 * episode, with where the device is, because repeats at the poll rate bury the cause (issue 6: a silent
 * device logged a line per poll, each with another `999.99… ms`, and no host, port or unit id).
 */
import { WgError } from '../errors.js';
import { formatDuration } from '../../hal/duration.js';
import type { TransportCounters } from '../../hal/transport.js';
import type { LevelLog } from '../log-events.js';

export interface EpisodeDevice {
  name: string;
  timeoutMs: number;
  host?: string;
  port?: number;
  /** A serial bus's port: the device is there, not at a host. */
  path?: string;
  unitId?: number;
}

/** Cycles in a row within the interval before a device that fell behind is said to keep up again. */
const ON_TIME_TO_RECOVER = 20;

export type EpisodeLog = LevelLog;

export class DeviceEpisodes {
  readonly #device: EpisodeDevice;
  readonly #log: EpisodeLog;
  /** Counters as the last review saw them, to tell what changed during a cycle. */
  #reviewed = { responses: 0, timeouts: 0, rxOverflows: 0 };
  #silent = false;
  #flooding = false;
  #behind = false;
  #onTime = 0;

  constructor(device: EpisodeDevice, log: EpisodeLog) {
    this.#device = device;
    this.#log = log;
  }

  /**
   * After each poll cycle, with the poller's and the transport's counters. Returns true when the device
   * overflowed its link since the last review, so the poller holds off reconnecting.
   */
  review(counters: { responses: number; timeouts: number }, transport: TransportCounters): boolean {
    const { responses, timeouts } = counters;
    const { rxOverflows, rxDiscardedBytes } = transport;
    const seen = this.#reviewed;
    this.#reviewed = { responses, timeouts, rxOverflows };
    const name = this.#device.name;
    const answered = responses > seen.responses;
    if (!answered && timeouts > seen.timeouts && !this.#silent) {
      this.#silent = true;
      const error = new WgError('WG_ERR_DEVICE_NO_ANSWER', {
        device: name, where: this.#where(), timeout: formatDuration(this.#device.timeoutMs),
        hint: responses === 0 && this.#device.path !== undefined
          ? 'it has never answered on this bus: check unit_id (its slave address), the wiring (A and B swapped?) and the bus settings (baud, parity, stop bits)'
          : responses === 0
          ? 'it accepts the connection but has never answered: check unit_id (a device or gateway ignores requests for a unit it does not serve) and port (another service may listen there)'
          : 'it answered before: check that the device is powered and that nothing between it and the gateway drops traffic',
      });
      this.#log(50, error.message, { event: 'device.problem', code: error.code, device: name, ...this.location() });
    } else if (answered && this.#silent) {
      this.#silent = false;
      this.#log(30, `device ${name} answers again`, { event: 'device.recovered', device: name, timeouts });
    }
    const overflowed = rxOverflows > seen.rxOverflows;
    if (overflowed && !this.#flooding) {
      this.#log(40, `device ${name} (${this.#where()}) sends bytes nobody asked for; the link was closed and is reopened with back-off`, {
        event: 'device.unasked_bytes', code: 'WG_ERR_HAL_RX_OVERFLOW', device: name, ...this.location(), rxOverflows, rxDiscardedBytes,
      });
    }
    this.#flooding = overflowed;
    return overflowed;
  }

  /**
   * After each cycle, with the polls it missed (0 when it finished within its interval). A poller that
   * falls behind is said once per episode, so that it never looks like a healthy one; it is counted in
   * `overruns` throughout.
   */
  reviewTiming(missed: number, cycleMs: number, totalOverruns: number): void {
    const name = this.#device.name;
    if (missed > 0 && !this.#behind) {
      this.#behind = true;
      this.#log(40, `device ${name} falls behind: a poll cycle took ${Math.round(cycleMs)} ms, longer than its interval, and ${missed} poll(s) were skipped; lengthen interval, shorten timeout, or move devices to another bus`, {
        event: 'device.overrun', code: 'WG_ERR_DEVICE_OVERRUN', device: name, ...this.location(), missed, cycleMs: Math.round(cycleMs), overruns: totalOverruns,
      });
    } else if (missed > 0) {
      this.#onTime = 0;
    } else if (this.#behind && ++this.#onTime >= ON_TIME_TO_RECOVER) {
      // Not at the first cycle that fits: a device on a full bus alternates, and each flip is no news.
      this.#behind = false;
      this.#onTime = 0;
      this.#log(30, `device ${name} keeps its interval again`, { event: 'device.overrun_over', device: name, overruns: totalOverruns });
    }
  }

  /** The device's address as log context: host, port, unit id, whichever are known. */
  location(): Record<string, unknown> {
    const { host, port, path, unitId } = this.#device;
    return { ...(host !== undefined ? { host } : {}), ...(port !== undefined ? { port } : {}), ...(path !== undefined ? { path } : {}), ...(unitId !== undefined ? { unitId } : {}) };
  }

  #where(): string {
    const { host, port, path, unitId } = this.#device;
    const address = host !== undefined ? `${host}${port !== undefined ? `:${port}` : ''}` : (path ?? 'address unknown');
    return unitId !== undefined ? `${address}, unit id ${unitId}` : address;
  }
}
