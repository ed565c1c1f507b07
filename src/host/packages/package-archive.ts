/**
 * The container of a plugin package (docs/plugins.md, "Packages"): a POSIX ustar archive of a few
 * regular files. Chosen over a format of our own because every shell can look inside one
 * (`tar tvf scale-0.2.0.wgp`, `tar xOf scale-0.2.0.wgp manifest.yaml`), it streams (each member is a
 * 512-byte header then its bytes), and the subset we need is a page of code, so no dependency.
 *
 * Reading treats the file as hostile: the header checksums are verified, sizes must fit inside the
 * file, only regular files with names the caller expects are accepted, each at most once, and each
 * within its own size limit. Anything else (links, directories, pax or GNU extension headers, a
 * second copy of a member, trailing bytes that are not zero blocks) refuses the whole file.
 */
import { WgError } from '../errors.js';

const BLOCK = 512;
/** ustar header fields we read or write: offset, length. */
const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHECKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const MAGIC = [257, 8] as const;
const PREFIX = [345, 155] as const;

export interface ArchiveMember {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What a reader accepts: each member name with the most bytes it may hold. */
export type MemberLimits = ReadonlyMap<string, number>;

/**
 * The archive of `members`, in the order given. Members are written with mode 0644, owner 0 and time
 * 0, so that packing the same files twice gives the same bytes (and the same sha256).
 */
export function writeArchive(members: readonly ArchiveMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const member of members) {
    const header = new Uint8Array(BLOCK);
    const name = Buffer.from(member.name, 'utf8');
    if (name.length >= NAME[1]) throw new RangeError(`archive member name too long: ${member.name}`);
    header.set(name, NAME[0]);
    octal(header, MODE, 0o644);
    octal(header, UID, 0);
    octal(header, GID, 0);
    octal(header, SIZE, member.bytes.length);
    octal(header, MTIME, 0);
    header[TYPEFLAG] = 0x30; // '0': a regular file
    header.set(Buffer.from('ustar\u000000', 'latin1'), MAGIC[0]);
    header.fill(0x20, CHECKSUM[0], CHECKSUM[0] + CHECKSUM[1]);
    const sum = header.reduce((a, b) => a + b, 0);
    header.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\u0000 `, 'latin1'), CHECKSUM[0]);
    parts.push(header, member.bytes, new Uint8Array(padding(member.bytes.length)));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end of archive: two zero blocks
  return Buffer.concat(parts);
}

/**
 * The members of the archive `bytes`, by name. `file` names it in errors (WG_ERR_PACKAGE_FORMAT);
 * `limits` lists every name accepted and its size limit.
 */
export function readArchive(bytes: Uint8Array, file: string, limits: MemberLimits): Map<string, Uint8Array> {
  const refuse = (detail: string): never => {
    throw new WgError('WG_ERR_PACKAGE_FORMAT', { file, detail });
  };
  const members = new Map<string, Uint8Array>();
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const header = bytes.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) {
      // The end: only zero blocks may follow (tar pads to its record size with them).
      if (!bytes.subarray(at).every((b) => b === 0)) refuse(`bytes after the end of the archive at offset ${at}`);
      if (members.size === 0) refuse('an empty archive');
      return members;
    }
    const magic = Buffer.from(header.subarray(MAGIC[0], MAGIC[0] + 5)).toString('latin1');
    if (magic !== 'ustar') refuse(`not a ustar archive (no ustar header at offset ${at}); build packages with wasmgate plugin pack`);
    if (checksumOf(header) !== readOctal(header, CHECKSUM)) refuse(`header checksum does not match at offset ${at}`);
    const prefix = text(header, PREFIX);
    const name = (prefix ? `${prefix}/` : '') + text(header, NAME);
    const type = header[TYPEFLAG];
    if (type !== 0x30 && type !== 0) refuse(`member ${JSON.stringify(name)} is not a regular file (type ${String.fromCharCode(type!)}); a package holds files only`);
    const plain = name.replace(/^\.\//, '');
    const limit = limits.get(plain);
    if (limit === undefined) refuse(`unexpected member ${JSON.stringify(name)}; a package holds ${[...limits.keys()].join(', ')}`);
    if (members.has(plain)) refuse(`member ${plain} appears twice`);
    const size = readOctal(header, SIZE);
    if (size === undefined) refuse(`member ${plain} has no readable size`);
    if (size! > limit!) refuse(`member ${plain} is ${size} bytes, more than the ${limit} a package allows`);
    const start = at + BLOCK;
    if (start + size! > bytes.length) refuse(`member ${plain} is cut short: ${size} bytes declared, ${bytes.length - start} present`);
    members.set(plain, bytes.subarray(start, start + size!));
    at = start + size! + padding(size!);
  }
  return refuse('the archive has no end (two zero blocks): the file is cut short');
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function octal(header: Uint8Array, [offset, length]: readonly [number, number], value: number): void {
  header.set(Buffer.from(`${value.toString(8).padStart(length - 1, '0')}\u0000`, 'latin1'), offset);
}

function readOctal(header: Uint8Array, [offset, length]: readonly [number, number]): number | undefined {
  const field = Buffer.from(header.subarray(offset, offset + length)).toString('latin1').replace(/[\0 ]+$/, '').trim();
  return /^[0-7]{1,11}$/.test(field) ? parseInt(field, 8) : undefined;
}

function text(header: Uint8Array, [offset, length]: readonly [number, number]): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
}

function checksumOf(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= CHECKSUM[0] && i < CHECKSUM[0] + CHECKSUM[1] ? 0x20 : header[i]!;
  return sum;
}
