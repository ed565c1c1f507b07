/**
 * A pipeline's rule state on disk, `data_dir/rules/<pipeline>.state`, so that active alarms, `for:`
 * timers, windows and counters survive a daemon restart: written whole and durably (a power cut
 * leaves the old file or the new one, durable-file.ts) after every batch that made an event and
 * every 10 s, read when the pipeline starts. The state is the compiled module's memory region, so it
 * is taken back only by a module compiled from the same rule set: the file carries the module's
 * fingerprint (sha256 of its bytes) and a sha256 of the state; anything else starts fresh, saying why.
 *
 *   0   4 bytes  "wgrs"
 *   4   u32      format, 1
 *   8   32 bytes sha256 of the module the state is of
 *   40  32 bytes sha256 of the state
 *   72  u32      state bytes, then the state
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../packages/durable-file.js';
import { compileRules } from './rule-compiler.js';
import type { RuleSet } from './rule-set.js';

const MAGIC = 'wgrs';
const FORMAT = 1;
const HEADER = 76;

export function rulesFingerprint(set: RuleSet): Buffer {
  return createHash('sha256').update(compileRules(set)).digest();
}

export type ReadState = { ok: true; state: Uint8Array } | { ok: false; reason: string };

export class RuleStateFile {
  readonly file: string;
  readonly #fingerprint: Buffer;
  #writing: Promise<void> | undefined;
  #next: Uint8Array | undefined;

  constructor(dataDir: string, pipeline: string, fingerprint: Buffer) {
    this.file = join(dataDir, 'rules', `${pipeline}.state`);
    this.#fingerprint = fingerprint;
  }

  async read(): Promise<ReadState> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no state saved yet' : `cannot read ${this.file}: ${(err as Error).message}` };
    }
    if (bytes.byteLength < HEADER || bytes.toString('latin1', 0, 4) !== MAGIC || bytes.readUInt32LE(4) !== FORMAT) return { ok: false, reason: `${this.file} is not a rule state file of format ${FORMAT}` };
    if (!bytes.subarray(8, 40).equals(this.#fingerprint)) return { ok: false, reason: 'the saved state is of another rule set (the rules changed)' };
    const length = bytes.readUInt32LE(72);
    const state = bytes.subarray(HEADER);
    if (state.byteLength !== length || !createHash('sha256').update(state).digest().equals(bytes.subarray(40, 72))) return { ok: false, reason: `${this.file} is damaged (its checksum does not match)` };
    return { ok: true, state };
  }

  /** Saves `state`; while a save is under way only the latest state waits for the next. Rejects when the write fails. */
  save(state: Uint8Array): Promise<void> {
    this.#next = state;
    this.#writing ??= this.#drain().finally(() => { this.#writing = undefined; });
    return this.#writing;
  }

  /** Resolves once what was asked to be saved is on disk (or failed). */
  async settled(): Promise<void> {
    await this.#writing?.catch(() => undefined);
  }

  async #drain(): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    while (this.#next) {
      const state = this.#next;
      this.#next = undefined;
      const header = Buffer.alloc(HEADER);
      header.write(MAGIC, 0, 'latin1');
      header.writeUInt32LE(FORMAT, 4);
      this.#fingerprint.copy(header, 8);
      createHash('sha256').update(state).digest().copy(header, 40);
      header.writeUInt32LE(state.byteLength, 72);
      await writeFileDurably(this.file, Buffer.concat([header, state]));
    }
  }
}
