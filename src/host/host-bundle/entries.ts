/**
 * What the bundled host (dist/bundle/, built by build-bundle.ts, run by bin/wasmgate.js) holds: the
 * CLI and every thread the daemon or a command starts, each its own ESM entry, named as the file the
 * starting code asks for with `new URL('./<name>.js', import.meta.url)`. Entries and the chunks they
 * share are written side by side in one folder, so such a URL, evaluated in whichever chunk the starting
 * code ends up in, names the bundled entry. Why a bundle: one module record, one source string and one
 * set of compiled functions per chunk instead of per file; the daemon's RSS and its module loading are
 * both smaller (bench/gateway.bench.ts with WG_BENCH_HOST).
 */

/** Output folder, relative to the package root. */
export const BUNDLE_DIR = 'dist/bundle';
/** esbuild's metafile (which input went into which output), beside the folder: not shipped. */
export const BUNDLE_META = 'dist/bundle-meta.json';

/** Entry name (the output file is `<name>.js`) -> compiled module, relative to the package root. */
export const BUNDLE_ENTRIES: Readonly<Record<string, string>> = {
  // What bin/wasmgate.js imports.
  main: 'dist/src/host/cli/main.js',
  // pipeline-runner.ts (the pipeline worker; dry-configure.ts runs the same entry).
  'worker-main': 'dist/src/host/pipeline/worker-main.js',
  // canary.ts (a swap's candidate, run in isolation first).
  'canary-worker': 'dist/src/host/pipeline/canary-worker.js',
  // cli/config-thread.ts (the configuration read apart from the daemon's heap).
  'config-thread-main': 'dist/src/host/cli/config-thread-main.js',
  // commission/bacnet-scan-run.ts (the bacnet plugin's scan codec, off the CLI's thread).
  'bacnet-scan-worker': 'dist/src/host/commission/bacnet-scan-worker.js',
};

/**
 * Packages left out of the bundle and loaded from node_modules as they are: native modules find their
 * compiled `.node` file relative to their own package (better-sqlite3 through `bindings`, serialport
 * through `node-gyp-build`, unix-dgram), and the plugin compiler is a development tool `plugin build`
 * imports by name. pino-pretty and unix-dgram are loaded with createRequire by design (only for the
 * pretty format, only under systemd) and would stay out anyway.
 */
export const BUNDLE_EXTERNAL: readonly string[] = [
  'better-sqlite3',
  'serialport',
  '@serialport/*',
  'unix-dgram',
  'pino-pretty',
  'assemblyscript',
  'assemblyscript/*',
  'binaryen',
];

/**
 * Files the bundled code loads by a path relative to its own module (createRequire(import.meta.url)),
 * copied beside the chunks: the build's standalone validators (config/standalone-validators.ts).
 */
export const BUNDLE_COPIED: readonly string[] = ['dist/src/host/config/standalone-validators.generated.cjs'];
