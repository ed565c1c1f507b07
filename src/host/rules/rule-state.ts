/**
 * A rule's life, as an alarm's (ISA-18.2's states, without acknowledgement, which belongs to the
 * console): idle; pending while the condition holds for less than `for:`; active once it held that
 * long (the rule fires, once); back to idle when it clears (once). After a clear by `clear:` while
 * the condition still holds, the rule is latched until the condition lets go, so a clear condition
 * that overlaps the condition cannot make it fire and clear on every sample: it never floods.
 */
export const enum Phase {
  IDLE = 0,
  PENDING = 1,
  ACTIVE = 2,
  LATCHED = 3,
}

export class RuleState {
  phase: Phase = Phase.IDLE;
  /** When the condition began to hold (PENDING). */
  since = 0;

  /** One evaluation at `now`; returns what the rule did, if anything. */
  step(now: number, forMs: number, holds: () => boolean, cleared: () => boolean): 'fire' | 'clear' | null {
    switch (this.phase) {
      case Phase.IDLE:
      case Phase.PENDING:
        if (!holds()) {
          this.phase = Phase.IDLE;
          return null;
        }
        if (this.phase === Phase.IDLE) {
          this.phase = Phase.PENDING;
          this.since = now;
        }
        if (now - this.since < forMs) return null;
        this.phase = Phase.ACTIVE;
        return 'fire';
      case Phase.ACTIVE:
        if (!cleared()) return null;
        this.phase = holds() ? Phase.LATCHED : Phase.IDLE;
        return 'clear';
      case Phase.LATCHED:
        if (!holds()) this.phase = Phase.IDLE;
        return null;
    }
  }
}
