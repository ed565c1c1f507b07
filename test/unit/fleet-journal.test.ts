/**
 * The journal of fleet command ids (src/host/fleet/fleet-journal.ts) on real files: what it wrote is
 * what a new process reads, entries past their expiry and beyond KEEP go, and a damaged file starts
 * an empty journal and says so instead of stopping the gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetJournal, KEEP } from '../../src/host/fleet/fleet-journal.js';

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-journal-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an id taken up is known to the next process, with its outcome', () => withDir(async (dir) => {
  const { journal } = await FleetJournal.open(dir);
  await journal.begin({ id: 'a', op: 'install', plugin: 'outlier', version: '0.2.0', expiresMs: 2_000 }, 1_000);
  const reopened = (await FleetJournal.open(dir)).journal;
  assert.equal(reopened.has('a'), true, 'known before its outcome: a gateway that died mid-install does not start it again');
  assert.equal(reopened.lastInstall('outlier'), undefined, 'not an install that went live yet');
  await journal.finish('a', 'applied');
  assert.equal((await FleetJournal.open(dir)).journal.lastInstall('outlier')?.id, 'a');
}));

test('entries past their expiry, and beyond the latest KEEP, are dropped', () => withDir(async (dir) => {
  const { journal } = await FleetJournal.open(dir);
  await journal.begin({ id: 'old', op: 'rollback', expiresMs: 500 }, 0);
  await journal.begin({ id: 'new', op: 'rollback', expiresMs: 5_000 }, 1_000);
  assert.deepEqual([journal.has('old'), journal.has('new')], [false, true]);
  for (let i = 0; i < KEEP + 3; i++) await journal.begin({ id: `n${i}`, op: 'rollback', expiresMs: 10_000 }, 1_000);
  const reopened = (await FleetJournal.open(dir)).journal;
  assert.deepEqual([reopened.has('new'), reopened.has('n2'), reopened.has('n3'), reopened.has(`n${KEEP + 2}`)], [false, false, true, true]);
}));

test('a damaged journal starts empty and says why', () => withDir(async (dir) => {
  await mkdir(join(dir, 'fleet'));
  await writeFile(join(dir, 'fleet', 'commands.json'), '{"format":1,"entr');
  const { journal, damaged } = await FleetJournal.open(dir);
  assert.match(damaged!, /JSON/);
  assert.equal(journal.has('a'), false);
  await journal.begin({ id: 'a', op: 'rollback', expiresMs: 2_000 }, 1_000);
  assert.equal((await FleetJournal.open(dir)).damaged, null, 'the next write makes it whole again');
}));
