/**
 * The audit file of rule writes: one JSON line per write a rule attempted, with its outcome, in
 * `data_dir/rules-audit.jsonl`, each line on disk (fdatasync) before the next is written, so that
 * after a power cut the file says what the gateway did to the plant up to its last write. The same
 * record is published on the uplink (rule-actions.ts); a file that cannot be written is said once
 * per episode and does not hold a write back.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';

export const AUDIT_FILE = 'rules-audit.jsonl';

export class RuleAudit {
  readonly file: string;
  readonly #logger: Logger;
  #handle?: Promise<FileHandle>;
  /** Appends go one after the other, in the order asked. */
  #queue: Promise<void> = Promise.resolve();
  #failing = false;

  constructor(dataDir: string, logger: Logger) {
    this.file = join(dataDir, AUDIT_FILE);
    this.#logger = logger;
  }

  append(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.#queue = this.#queue.then(() => this.#write(line));
    return this.#queue;
  }

  async #write(line: string): Promise<void> {
    try {
      this.#handle ??= open(this.file, 'a', 0o640);
      const handle = await this.#handle;
      await handle.write(line);
      await handle.datasync();
      if (this.#failing) {
        this.#failing = false;
        this.#logger.info({ event: 'rule.audit_failed', file: this.file, recovered: true }, 'the rules audit file is written again');
      }
    } catch (err) {
      // Opened again at the next write: a full disk may have room by then.
      this.#handle = undefined;
      if (this.#failing) return;
      this.#failing = true;
      this.#logger.error({ event: 'rule.audit_failed', file: this.file, err }, `cannot write the rules audit file ${this.file}: ${(err as Error).message}; writes are still published on the uplink`);
    }
  }

  async close(): Promise<void> {
    await this.#queue;
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
