/**
 * Build step (`npm run build:bundle`, part of `npm run build`, after tsc and the validators): bundles
 * the compiled host (dist/src) with esbuild into dist/bundle, one ESM entry per thread (entries.ts)
 * and the chunks they share, with code splitting so that a module a command imports only when it runs
 * (the config loader, the plugin compiler, the demo) stays in a chunk of its own that `run` never loads.
 * The input is tsc's output, not the TypeScript: what is bundled is what the tests run from dist/src,
 * and tsc's source maps are chained, so the bundle's maps name the src/ files.
 *
 * Also written: dist/bundle-meta.json, esbuild's account of which input went into which output (the
 * tests read the daemon's static import graph from it).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_COPIED, BUNDLE_DIR, BUNDLE_ENTRIES, BUNDLE_EXTERNAL, BUNDLE_META } from './entries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const outdir = join(root, BUNDLE_DIR);

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(Object.entries(BUNDLE_ENTRIES).map(([name, file]) => [name, join(root, file)])),
  outdir,
  entryNames: '[name]',
  // Beside the entries, not in a subfolder: a `new URL('./worker-main.js', import.meta.url)` is
  // evaluated in the chunk that holds the code, and must name the entry from there.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...BUNDLE_EXTERNAL],
  // A class that names itself in its body is emitted as `var Gateway = class _Gateway`, whose name is
  // then `_Gateway`; pino's error serializer logs `err.constructor.name` as the error's `type`, and
  // MQTT.js's ErrorWithReasonCode is such a class. keepNames sets every name back.
  keepNames: true,
  // CommonJS packages (pino, MQTT.js, commander, ...) call require() for Node's modules and their own
  // files; an ES module has no require, so each output file gets one of its own.
  banner: { js: "import { createRequire as __wgCreateRequire } from 'node:module'; const require = __wgCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  // The maps name src/*.ts and node_modules' files by path; their text is in the checkout, and in a
  // map it would only make each one bigger to read for --enable-source-maps.
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
writeFileSync(join(root, BUNDLE_META), JSON.stringify(result.metafile));
for (const file of BUNDLE_COPIED) copyFileSync(join(root, file), join(outdir, basename(file)));
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
console.log(`build-bundle: ${Object.keys(BUNDLE_ENTRIES).length} entries, ${outputs.length} files -> ${outdir}`);
