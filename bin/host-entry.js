// Which build of the host the CLI runs: the bundle (dist/bundle/, `npm run build`), else tsc's output
// (dist/src/). The bundle loads a few dozen chunks instead of hundreds of modules: a smaller daemon
// (RSS) and a faster start (bench/gateway.bench.ts, WG_BENCH_HOST). It is built from dist/src, so one
// older than dist/src (tsc ran after it: a host-only rebuild) would run yesterday's code: then
// dist/src runs. WASMGATE_HOST=bundle or =dist chooses (the benches compare the two); a bundle chosen
// that is not there or older than dist/src is an error, not a silent fallback.
import { statSync } from 'node:fs';

export const BUNDLE_MAIN = new URL('../dist/bundle/main.js', import.meta.url);
export const DIST_MAIN = new URL('../dist/src/host/cli/main.js', import.meta.url);

/** Modification time in ms, or undefined for a missing file. */
function mtime(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

/** { url } of the CLI module to import, or { error } when WASMGATE_HOST asks for what cannot run. */
export function hostEntry(env = process.env, bundleMain = BUNDLE_MAIN, distMain = DIST_MAIN) {
  const choice = env.WASMGATE_HOST;
  if (choice === 'dist') return { url: distMain };
  if (choice !== undefined && choice !== 'bundle') return { error: `WASMGATE_HOST=${choice}: give bundle or dist` };
  const bundle = mtime(bundleMain);
  const dist = mtime(distMain);
  // A package ships both built together (npm pack gives every file one date, hence >=).
  const fresh = bundle !== undefined && (dist === undefined || bundle >= dist);
  if (fresh) return { url: bundleMain };
  if (choice === 'bundle') {
    return { error: bundle === undefined ? 'WASMGATE_HOST=bundle: dist/bundle/ is not built (npm run build)' : 'WASMGATE_HOST=bundle: dist/bundle/ is older than dist/src/ (npm run build:bundle)' };
  }
  return { url: distMain };
}
