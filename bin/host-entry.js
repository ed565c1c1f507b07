// Which build of the host the CLI runs: the bundle (dist/bundle/, `npm run build`), else tsc's output
// (dist/src/). The bundle loads a few dozen chunks instead of hundreds of modules: about a third off
// the start (bench/gateway.bench.ts with WG_BENCH_HOSTS="dist bundle"; memory about equal).
//
// In a checkout (src/ beside dist/), the bundle is built from dist/src, and one older than dist/src
// (tsc ran after it: a host-only rebuild) would run yesterday's code: then dist/src runs. An installed
// package (npm, the .deb) has no src/ and was built in one go; its files' dates say nothing (npm writes
// them in its own order at install), so there the bundle runs whenever it is there.
// WASMGATE_HOST=bundle or =dist chooses (the benches compare the two); a bundle chosen that is not
// there, or stale in a checkout, is an error, not a silent fallback.
import { existsSync, statSync } from 'node:fs';

const ROOT = new URL('../', import.meta.url);
export const BUNDLE_MAIN = new URL('dist/bundle/main.js', ROOT);
export const DIST_MAIN = new URL('dist/src/host/cli/main.js', ROOT);
const SOURCES = new URL('src/', ROOT);

/** Modification time in ms, or undefined for a missing file. */
function mtime(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * { url } of the CLI module to import, or { error } when WASMGATE_HOST asks for what cannot run.
 * The paths are parameters for the tests; bin/wasmgate.js gives none.
 */
export function hostEntry(env = process.env, { bundleMain = BUNDLE_MAIN, distMain = DIST_MAIN, sources = SOURCES } = {}) {
  const choice = env.WASMGATE_HOST;
  if (choice === 'dist') return { url: distMain };
  if (choice !== undefined && choice !== 'bundle') return { error: `WASMGATE_HOST=${choice}: give bundle or dist` };
  const bundle = mtime(bundleMain);
  if (bundle === undefined) {
    return choice === 'bundle' ? { error: 'WASMGATE_HOST=bundle: dist/bundle/ is not built (npm run build)' } : { url: distMain };
  }
  const dist = existsSync(sources) ? mtime(distMain) : undefined;
  if (dist === undefined || bundle >= dist) return { url: bundleMain };
  return choice === 'bundle' ? { error: 'WASMGATE_HOST=bundle: dist/bundle/ is older than dist/src/ (npm run build:bundle)' } : { url: distMain };
}
