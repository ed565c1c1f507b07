/**
 * bin/host-entry.js: which build of the host bin/wasmgate.js imports. In a checkout (src/ there): the
 * bundle when it is not older than tsc's output, tsc's output when the bundle is missing or older
 * (built before the last tsc run, it would run older code). In an installed package (no src/): the
 * bundle whenever it is there, whatever the dates (npm writes the files at install in its own order).
 * WASMGATE_HOST chooses, and a bundle chosen that cannot run is an error. Files with set modification
 * times in a scratch folder stand for the two builds and the sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/plugins.js';

const { hostEntry } = (await import(pathToFileURL(join(REPO_ROOT, 'bin/host-entry.js')).href)) as {
  hostEntry(env: Record<string, string | undefined>, paths: Builds): { url?: URL; error?: string };
};

interface Builds { bundleMain: URL; distMain: URL; sources: URL }

/** The two builds' main modules with these dates (seconds; undefined: not there), and src/ in a checkout. */
function builds(t: { after(fn: () => void): void }, bundleAt: number | undefined, distAt: number | undefined, checkout = true): Builds {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-host-entry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const made = { bundle: join(dir, 'bundle-main.js'), dist: join(dir, 'dist-main.js') };
  for (const [file, at] of [[made.bundle, bundleAt], [made.dist, distAt]] as const) {
    if (at === undefined) continue;
    writeFileSync(file, '');
    utimesSync(file, at, at);
  }
  if (checkout) mkdirSync(join(dir, 'src'));
  return { bundleMain: pathToFileURL(made.bundle), distMain: pathToFileURL(made.dist), sources: pathToFileURL(join(dir, 'src') + '/') };
}

test('in a checkout, a bundle built after tsc (or in the same instant) runs', (t) => {
  const later = builds(t, 2000, 1000);
  assert.equal(hostEntry({}, later).url, later.bundleMain);
  const same = builds(t, 1000, 1000);
  assert.equal(hostEntry({}, same).url, same.bundleMain);
  const alone = builds(t, 1000, undefined);
  assert.equal(hostEntry({}, alone).url, alone.bundleMain);
});

test('in a checkout, without a bundle or with one older than tsc\'s output, tsc\'s output runs', (t) => {
  const none = builds(t, undefined, 1000);
  assert.equal(hostEntry({}, none).url, none.distMain);
  const stale = builds(t, 1000, 2000);
  assert.equal(hostEntry({}, stale).url, stale.distMain);
});

test('in an installed package (no src/), the bundle runs whatever its date; without one, tsc\'s output', (t) => {
  const installed = builds(t, 1000, 2000, false);
  assert.equal(hostEntry({}, installed).url, installed.bundleMain);
  assert.equal(hostEntry({ WASMGATE_HOST: 'bundle' }, installed).url, installed.bundleMain);
  const none = builds(t, undefined, 2000, false);
  assert.equal(hostEntry({}, none).url, none.distMain);
});

test('WASMGATE_HOST chooses; a bundle chosen that is missing or stale, or another value, is an error', (t) => {
  const fresh = builds(t, 2000, 1000);
  assert.equal(hostEntry({ WASMGATE_HOST: 'dist' }, fresh).url, fresh.distMain);
  assert.equal(hostEntry({ WASMGATE_HOST: 'bundle' }, fresh).url, fresh.bundleMain);
  const stale = builds(t, 1000, 2000);
  assert.match(hostEntry({ WASMGATE_HOST: 'bundle' }, stale).error ?? '', /older than dist\/src/);
  const none = builds(t, undefined, 1000);
  assert.match(hostEntry({ WASMGATE_HOST: 'bundle' }, none).error ?? '', /not built/);
  assert.match(hostEntry({ WASMGATE_HOST: 'src' }, fresh).error ?? '', /give bundle or dist/);
});
