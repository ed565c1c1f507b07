/**
 * A pipeline's rule state on disk, `data_dir/rules/<pipeline>.state`, so that active alarms, `for:`
 * timers, windows and counters survive a daemon restart and a change of the rule set: written whole
 * and durably (a power cut leaves the old file or the new one, durable-file.ts) once the writes of
 * the events before it are settled (state-after-writes.ts), read when the pipeline starts. It holds
 * the state as named pieces (rule-state-map.ts), so a changed rule set takes back what it still has,
 * and where the rules' timeline stood (rule-timeline.ts). Anything unreadable starts fresh, saying why.
 *
 *   0   4 bytes  "wgrs"
 *   4   u32      format, 2 (format 1 held one opaque region of one rule set: read as fresh)
 *   8   32 bytes sha256 of the body
 *   40  u32      body bytes, then the body:
 *       f64 timeline ms, f64 wall-clock ms (of the save), u32 pieces,
 *       each: u16 key bytes, the key (UTF-8), u32 bytes, the bytes
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../packages/durable-file.js';

const MAGIC = 'wgrs';
const FORMAT = 2;
const HEADER = 44;

export interface SavedRuleState {
  readonly pieces: ReadonlyMap<string, Uint8Array>;
  /** Where the timeline stood, and the wall clock then. */
  readonly timeline: { readonly t: number; readonly wallMs: number };
}

export type ReadState = ({ ok: true } & SavedRuleState) | { ok: false; reason: string };

export function encodeRuleState(state: SavedRuleState): Buffer {
  const chunks: Buffer[] = [];
  const head = Buffer.alloc(20);
  head.writeDoubleLE(state.timeline.t, 0);
  head.writeDoubleLE(state.timeline.wallMs, 8);
  head.writeUInt32LE(state.pieces.size, 16);
  chunks.push(head);
  for (const [key, bytes] of state.pieces) {
    const name = Buffer.from(key);
    const lengths = Buffer.alloc(6);
    lengths.writeUInt16LE(name.byteLength, 0);
    chunks.push(lengths.subarray(0, 2), name);
    lengths.writeUInt32LE(bytes.byteLength, 2);
    chunks.push(lengths.subarray(2, 6), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(FORMAT, 4);
  createHash('sha256').update(body).digest().copy(header, 8);
  header.writeUInt32LE(body.byteLength, 40);
  return Buffer.concat([header, body]);
}

export function decodeRuleState(bytes: Buffer, file: string): ReadState {
  if (bytes.byteLength < HEADER || bytes.toString('latin1', 0, 4) !== MAGIC) return { ok: false, reason: `${file} is not a rule state file` };
  if (bytes.readUInt32LE(4) !== FORMAT) return { ok: false, reason: `${file} is of format ${bytes.readUInt32LE(4)}, not ${FORMAT}` };
  const body = bytes.subarray(HEADER);
  if (body.byteLength !== bytes.readUInt32LE(40) || !createHash('sha256').update(body).digest().equals(bytes.subarray(8, 40))) return { ok: false, reason: `${file} is damaged (its checksum does not match)` };
  const pieces = new Map<string, Uint8Array>();
  const count = body.readUInt32LE(16);
  let at = 20;
  for (let i = 0; i < count; i++) {
    const keyLength = body.readUInt16LE(at);
    const key = body.toString('utf8', at + 2, at + 2 + keyLength);
    at += 2 + keyLength;
    const length = body.readUInt32LE(at);
    pieces.set(key, body.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { ok: true, pieces, timeline: { t: body.readDoubleLE(0), wallMs: body.readDoubleLE(8) } };
}

export class RuleStateFile {
  readonly file: string;
  #writing: Promise<void> | undefined;
  #next: SavedRuleState | undefined;

  constructor(dataDir: string, pipeline: string) {
    this.file = join(dataDir, 'rules', `${pipeline}.state`);
  }

  async read(): Promise<ReadState> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no state saved yet' : `cannot read ${this.file}: ${(err as Error).message}` };
    }
    try {
      return decodeRuleState(bytes, this.file);
    } catch {
      // A length that runs past the end: the checksum matched, so written by something else.
      return { ok: false, reason: `${this.file} is damaged (a piece runs past its end)` };
    }
  }

  /** Saves `state`; while a save is under way only the latest state waits for the next. Rejects when the write fails. */
  save(state: SavedRuleState): Promise<void> {
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
      await writeFileDurably(this.file, encodeRuleState(state));
    }
  }
}
