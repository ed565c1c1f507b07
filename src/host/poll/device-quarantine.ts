import type { LevelLog } from '../log-events.js';
/**
 * Quarantine of a device that stopped answering, so that one dead slave never stalls a shared bus:
 * (only on a link shared with other devices) after `quarantineAfter` failed poll cycles in a row its cycles stop using the link (its points are recorded
 * no-comm without a request), and only a probe (its first request, no retries) is sent now and then (first after two intervals,
 * at least PROBE_MIN_MS), twice as far apart each time it fails, up to PROBE_MAX_MS. The first answer restores the device.
 */
export type QuarantineLog = LevelLog;

/** Shortest gap before the first probe: a fast poll interval must not turn probes into a timeout per cycle. */
export const PROBE_MIN_MS = 1_000;
/** Longest gap between probes of a quarantined device. */
export const PROBE_MAX_MS = 30_000;

export type CycleKind = 'full' | 'probe' | 'skip';

export class DeviceQuarantine {
  readonly #device: { name: string; intervalMs: number; quarantineAfter: number };
  readonly #log: QuarantineLog;
  #failedCycles = 0;
  #active = false;
  #probeAt = 0;
  #probeGapMs = 0;
  /** Cycles that did not touch the link because the device was quarantined. */
  skipped = 0;
  probes = 0;
  /** Times the device was quarantined. */
  entered = 0;

  constructor(device: { name: string; intervalMs: number; quarantineAfter: number }, log: QuarantineLog) {
    this.#device = device;
    this.#log = log;
  }

  get active(): boolean {
    return this.#active;
  }

  /** What the cycle starting now may do. */
  cycle(now: number): CycleKind {
    if (!this.#active) return 'full';
    if (now < this.#probeAt) {
      this.skipped++;
      return 'skip';
    }
    this.probes++;
    return 'probe';
  }

  /** After a cycle that used the link: whether the device answered anything, and whether it timed out. */
  review(now: number, answered: boolean, timedOut: boolean): void {
    if (answered) {
      if (this.#active) {
        this.#log(30, `device ${this.#device.name} answers again; quarantine lifted after ${this.probes} probes`, { event: 'device.quarantine_lifted', device: this.#device.name });
      }
      this.#failedCycles = 0;
      this.#active = false;
      return;
    }
    if (!timedOut) return;
    this.#failedCycles++;
    if (this.#active) {
      this.#probeGapMs = Math.min(this.#probeGapMs * 2, Math.max(PROBE_MAX_MS, this.#device.intervalMs));
      this.#probeAt = now + this.#probeGapMs;
    } else if (this.#failedCycles >= this.#device.quarantineAfter) {
      this.#active = true;
      this.entered++;
      this.#probeGapMs = Math.max(this.#device.intervalMs * 2, PROBE_MIN_MS);
      this.#probeAt = now + this.#probeGapMs;
      this.#log(40, `device ${this.#device.name} quarantined after ${this.#failedCycles} poll cycles without an answer: its points are no-comm and it is probed now and then, so the other devices on its link keep their rate`, {
        event: 'device.quarantined', code: 'WG_ERR_DEVICE_QUARANTINED', device: this.#device.name, cycles: this.#failedCycles,
      });
    }
  }
}
