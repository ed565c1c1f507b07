/**
 * A package copied over the one being installed, in place (`cp v2.wgp x.wgp` onto a file of that name
 * keeps its inode): the watcher must not move the new bytes to installed/ as if they were the ones
 * installed; they get a turn of their own. The install here is a recording stand-in for the registry's
 * (plugin-control.ts), since what is under test is the watcher's hand-over and move, not the install's
 * checks, which test/integration/plugin-drop-in.test.ts runs through the daemon; the directory is real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/host/logger.js';
import { DropInWatcher, INSTALLED_DIR } from '../../src/host/packages/drop-in.js';
import { waitFor } from '../support/wait.js';

/** The shape the watcher takes for a whole package (a ustar header, two zero blocks at the end), `tag` in its first byte. */
function packageLike(tag: number, blocks: number): Uint8Array {
  const bytes = new Uint8Array(512 * (blocks + 2));
  bytes[0] = tag;
  bytes.set(Buffer.from('ustar'), 257);
  return bytes;
}

test('a package overwritten in place while the one before it installs is not moved to installed/ in its name: it is installed in its own turn', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-dropin-overwrite-'));
  const file = join(dir, 'scale.wgp');
  const first = packageLike(1, 1);
  const second = packageLike(2, 3);
  const installed: number[] = [];
  await writeFile(file, first);
  const inode = (await stat(file)).ino;
  const watcher = DropInWatcher.start({
    dir,
    logger: createLogger('error', 'json'),
    install: async (_file, bytes) => {
      installed.push(bytes[0]!);
      if (bytes[0] === 1) {
        // The engineer copies the next version over it while this one installs.
        await writeFile(file, second);
        assert.equal((await stat(file)).ino, inode, 'overwritten in place: the same inode');
      }
      return { plugin: 'scale', version: `0.${bytes[0]}.0`, previous: null, status: 'installed', pipelines: [] };
    },
  });
  try {
    await waitFor(() => watcher.counters.installed >= 2, 20_000, () => `installed ${JSON.stringify(installed)}, counters ${JSON.stringify(watcher.counters)}`);
    assert.deepEqual(installed, [1, 2], 'each version went through the install once, and each install is counted');
    // The first version's file is gone (written over), so installed/ holds the second alone, beside its own outcome.
    const moved = (await readdir(join(dir, INSTALLED_DIR))).filter((n) => n.endsWith('.wgp'));
    assert.equal(moved.length, 1);
    assert.equal((await readFile(join(dir, INSTALLED_DIR, moved[0]!)))[0], 2, 'the bytes moved are the second version\'s');
    assert.match(await readFile(join(dir, INSTALLED_DIR, `${moved[0]!}.txt`), 'utf8'), / installed scale 0\.2\.0 /, 'and the outcome beside them is theirs');
  } finally {
    await watcher.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
