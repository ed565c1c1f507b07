/**
 * The commands this gateway has taken up, by id (docs/fleet.md, "Once only"): what makes a command
 * delivered twice (a QoS 1 redelivery, a retained command handed to every new subscription, a
 * rollout tool run again) apply once. An id is written, durably (write, fsync, rename), before the
 * command is worked on, so a gateway that dies mid-install and receives the command again after its
 * restart does not start it twice. Its outcome is added once known, and is what the last status of
 * a crash-loop rollback names.
 *
 * Bounded: an entry past its command's expiry is dropped (the command would be refused as expired
 * anyway), and beyond KEEP entries the oldest go first.
 *
 *   <data_dir>/fleet/commands.json
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../packages/durable-file.js';

export const KEEP = 256;

export interface JournalEntry {
  readonly id: string;
  readonly op: string;
  readonly plugin?: string;
  readonly version?: string;
  readonly expiresMs: number;
  /** null while it is worked on (or when the gateway died while it was). */
  readonly outcome: string | null;
}

export class FleetJournal {
  readonly file: string;
  #entries: JournalEntry[] = [];
  #writes: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.file = file;
  }

  /** The journal of `dataDir`; a missing or unreadable one starts empty (and says so through `damaged`). */
  static async open(dataDir: string): Promise<{ journal: FleetJournal; damaged: string | null }> {
    const journal = new FleetJournal(join(dataDir, 'fleet', 'commands.json'));
    let damaged: string | null = null;
    try {
      const parsed = JSON.parse(await readFile(journal.file, 'utf8')) as { entries?: unknown };
      if (!Array.isArray(parsed.entries)) throw new Error('no entries list');
      journal.#entries = parsed.entries.filter((e): e is JournalEntry => e !== null && typeof e === 'object' && typeof (e as JournalEntry).id === 'string' && typeof (e as JournalEntry).expiresMs === 'number');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') damaged = (err as Error).message;
    }
    return { journal, damaged };
  }

  has(id: string): boolean {
    return this.#entries.some((e) => e.id === id);
  }

  /** The latest install of `plugin` that went live, for a crash-loop rollback's status. */
  lastInstall(plugin: string): JournalEntry | undefined {
    return [...this.#entries].reverse().find((e) => e.op === 'install' && e.plugin === plugin && e.outcome === 'applied');
  }

  /** Records `entry` as taken up (outcome null), durably, before its work begins. */
  async begin(entry: Omit<JournalEntry, 'outcome'>, nowMs: number): Promise<void> {
    this.#entries = [...this.#entries.filter((e) => e.expiresMs > nowMs && e.id !== entry.id), { ...entry, outcome: null }].slice(-KEEP);
    await this.#save();
  }

  async finish(id: string, outcome: string): Promise<void> {
    this.#entries = this.#entries.map((e) => (e.id === id ? { ...e, outcome } : e));
    await this.#save();
  }

  /** Writes one after the other, each the state when its turn came. */
  #save(): Promise<void> {
    this.#writes = this.#writes.catch(() => undefined).then(async () => {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeFileDurably(this.file, `${JSON.stringify({ format: 1, entries: this.#entries })}\n`);
    });
    return this.#writes;
  }
}
