/**
 * The audit file of rule writes: one JSON line per write a rule attempted, with its outcome, in
 * `data_dir/rules-audit.jsonl`, each line on disk (fdatasync) before the next is written, so that
 * after a power cut the file says what the gateway did to the plant up to its last write. The same
 * record is published on the uplink (rule-actions.ts); a file that cannot be written is said once
 * per episode and does not hold a write back. A line that would take the file past AUDIT_MAX_BYTES
 * first moves it to `rules-audit.1.jsonl` (the one before is dropped), so a rule that writes all
 * day cannot fill the SD card: the two files hold at most twice that.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';

export const AUDIT_FILE = 'rules-audit.jsonl';
export const AUDIT_ROTATED_FILE = 'rules-audit.1.jsonl';
/** 8 MiB: some 30 000 write records, weeks of a busy rule set; two files stay small beside the outbox. */
export const AUDIT_MAX_BYTES = 8 * 1024 * 1024;

export class RuleAudit {
  readonly file: string;
  readonly rotatedFile: string;
  readonly #logger: Logger;
  readonly #maxBytes: number;
  #handle?: Promise<FileHandle>;
  /** Bytes in the file, known once it is open. */
  #size = 0;
  /** Appends go one after the other, in the order asked. */
  #queue: Promise<void> = Promise.resolve();
  #failing = false;

  /** `maxBytes`: where the file is rotated (AUDIT_MAX_BYTES; smaller in tests). */
  constructor(dataDir: string, logger: Logger, maxBytes = AUDIT_MAX_BYTES) {
    this.file = join(dataDir, AUDIT_FILE);
    this.rotatedFile = join(dataDir, AUDIT_ROTATED_FILE);
    this.#logger = logger;
    this.#maxBytes = maxBytes;
  }

  append(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.#queue = this.#queue.then(() => this.#write(line));
    return this.#queue;
  }

  async #write(line: string): Promise<void> {
    try {
      let handle = await this.#open();
      const bytes = Buffer.byteLength(line);
      if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
        await this.#rotate(handle);
        handle = await this.#open();
      }
      await handle.write(line);
      this.#size += bytes;
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

  async #open(): Promise<FileHandle> {
    if (!this.#handle) {
      this.#handle = open(this.file, 'a', 0o640);
      this.#size = (await (await this.#handle).stat()).size;
    }
    return this.#handle;
  }

  async #rotate(handle: FileHandle): Promise<void> {
    const size = this.#size;
    this.#handle = undefined;
    await handle.close();
    // rename(2) replaces the older generation in one step: a crash leaves one or the other.
    await rename(this.file, this.rotatedFile);
    this.#logger.info({ event: 'rule.audit_rotated', file: this.file, rotated: this.rotatedFile, bytes: size }, `the rules audit file reached ${size} bytes: moved to ${this.rotatedFile} (the one before is dropped), a new one begun`);
  }

  async close(): Promise<void> {
    await this.#queue;
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
