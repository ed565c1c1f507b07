/**
 * The package container against GNU tar, an independent implementation of ustar: what we write, tar
 * lists and extracts byte for byte; what tar writes (--format=ustar, and its default gnu format for
 * short names), we read. Then the hostile archives, each refused with WG_ERR_PACKAGE_FORMAT naming
 * what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArchive, writeArchive } from '../../src/host/packages/package-archive.js';
import { isWgError } from '../../src/host/errors.js';
import { findTool, needs } from '../support/tools.js';

const tar = needs('tar', !!findTool('tar'));
const LIMITS = new Map([['manifest.yaml', 1024], ['plugin.wasm', 4096], ['signature', 200]]);
const manifest = Buffer.from('name: demo\nversion: 1.0.0\n');
// 513 bytes: one more than a block, so the padding of a member that does not end on a block is read.
const module = Buffer.alloc(513, 7);

function refused(bytes: Uint8Array, detail: RegExp): void {
  assert.throws(() => readArchive(bytes, 'x.wgp', LIMITS), (err: unknown) => isWgError(err, 'WG_ERR_PACKAGE_FORMAT') && detail.test(err.message));
}

test('GNU tar lists and extracts what we write, byte for byte', tar, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-archive-'));
  try {
    const file = join(dir, 'p.wgp');
    await writeFile(file, writeArchive([{ name: 'manifest.yaml', bytes: manifest }, { name: 'plugin.wasm', bytes: module }]));
    assert.equal(execFileSync('tar', ['tf', file], { encoding: 'utf8' }), 'manifest.yaml\nplugin.wasm\n');
    execFileSync('tar', ['xf', file, '-C', dir]);
    assert.deepEqual(await readFile(join(dir, 'manifest.yaml')), manifest);
    assert.deepEqual(await readFile(join(dir, 'plugin.wasm')), module);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('we read what GNU tar writes, in ustar and in its default format', tar, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-archive-'));
  try {
    await writeFile(join(dir, 'manifest.yaml'), manifest);
    await writeFile(join(dir, 'plugin.wasm'), module);
    for (const format of [['--format=ustar'], []]) {
      const file = join(dir, `t${format.length}.tar`);
      execFileSync('tar', [...format, '-cf', file, '-C', dir, 'plugin.wasm', 'manifest.yaml']);
      const members = readArchive(await readFile(file), file, LIMITS);
      assert.deepEqual([...members.keys()], ['plugin.wasm', 'manifest.yaml']);
      assert.deepEqual(Buffer.from(members.get('manifest.yaml')!), manifest);
      assert.deepEqual(Buffer.from(members.get('plugin.wasm')!), module);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the same members give the same bytes (owner, mode and time are fixed)', () => {
  const a = writeArchive([{ name: 'manifest.yaml', bytes: manifest }]);
  const b = writeArchive([{ name: 'manifest.yaml', bytes: Buffer.from(manifest) }]);
  assert.deepEqual(a, b);
  // 512 header + 512 (26 bytes padded) + 1024 end.
  assert.equal(a.length, 2048);
});

test('hostile archives are refused, saying what is wrong', () => {
  const good = writeArchive([{ name: 'manifest.yaml', bytes: manifest }, { name: 'plugin.wasm', bytes: module }]);
  const flipped = Buffer.from(good);
  flipped[10] ^= 1; // inside the first member's name: the header checksum no longer matches
  refused(flipped, /header checksum does not match at offset 0/);
  refused(good.subarray(0, 700), /cut short/);
  refused(good.subarray(0, 512 + 512 + 512 + 1024), /has no end|cut short/);
  refused(Buffer.concat([good, Buffer.from('x')]), /bytes after the end of the archive/);
  refused(writeArchive([{ name: 'manifest.yaml', bytes: manifest }, { name: 'manifest.yaml', bytes: manifest }]), /appears twice/);
  refused(writeArchive([{ name: '../etc/passwd', bytes: manifest }]), /unexpected member "..\/etc\/passwd"/);
  refused(writeArchive([{ name: 'plugin.wasm', bytes: Buffer.alloc(4097) }]), /4097 bytes, more than the 4096/);
  refused(writeArchive([]), /an empty archive/);
  refused(Buffer.alloc(1024, 0x41), /not a ustar archive/);
  // A symbolic link named like a member: typeflag '2', checksum made right again.
  const link = Buffer.from(writeArchive([{ name: 'plugin.wasm', bytes: Buffer.alloc(0) }]));
  link[156] = 0x32;
  link.fill(0x20, 148, 156);
  const sum = link.subarray(0, 512).reduce((a, b) => a + b, 0);
  link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  refused(link, /is not a regular file \(type 2\)/);
});
