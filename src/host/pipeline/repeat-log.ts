/**
 * Logs a failure that repeats (a plugin that traps on every batch, a decoder that traps on every frame)
 * at a bounded rate: the first occurrence of each kind at once, then at most one line per interval
 * carrying how many occurred since the last line. The counters keep the exact totals; the log must stay
 * readable and must not become the gateway's biggest load.
 */
import type { LevelLog, LogContext } from '../log-events.js';

export type LogFn = LevelLog;

interface Episode {
  /** Occurrences not yet written. */
  pending: number;
  lastWrittenAt: number;
  level: number;
  message: string;
  context: LogContext;
}

export class RepeatLog {
  readonly #log: LogFn;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #episodes = new Map<string, Episode>();

  constructor(log: LogFn, intervalMs = 10_000, now: () => number = () => performance.now()) {
    this.#log = log;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** One occurrence of the failure `key` (e.g. step and code). */
  report(key: string, level: number, message: string, context: LogContext): void {
    const now = this.#now();
    const episode = this.#episodes.get(key);
    if (!episode) {
      this.#episodes.set(key, { pending: 0, lastWrittenAt: now, level, message, context });
      this.#log(level, message, context);
      return;
    }
    episode.pending++;
    episode.level = level;
    episode.message = message;
    episode.context = context;
    if (now - episode.lastWrittenAt >= this.#intervalMs) this.#write(episode, now);
  }

  /** Writes the count of what was held back for longer than the interval (call it about once a second). */
  flush(): void {
    const now = this.#now();
    for (const [key, episode] of this.#episodes) {
      if (now - episode.lastWrittenAt < this.#intervalMs) continue;
      if (episode.pending > 0) this.#write(episode, now);
      else this.#episodes.delete(key); // quiet for a whole interval: the next occurrence is news again
    }
  }

  #write(episode: Episode, now: number): void {
    const seconds = Math.round((now - episode.lastWrittenAt) / 1000);
    this.#log(episode.level, `${episode.message} (and ${episode.pending} more like it in the last ${seconds} s)`, { ...episode.context, repeats: episode.pending });
    episode.pending = 0;
    episode.lastWrittenAt = now;
  }
}
