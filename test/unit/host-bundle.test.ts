/**
 * The bundled host (dist/bundle/, src/host/host-bundle/) is the code a daemon runs, so what holds for
 * dist/src must hold for it. These tests read the built bundle and the sources:
 * - every thread src/host starts by `new URL('./X.js', import.meta.url)` is an entry named X in the
 *   one flat folder, so the URL names it from whichever chunk the starting code landed in;
 * - the files loaded by a path relative to a module are copied beside the chunks, as they are;
 * - the daemon's run path (what daemon-config-modules.test.ts checks in dist/src) imports no chunk
 *   that holds yaml or ajv, read from esbuild's metafile; and the check sees them in the config thread;
 * - the source maps name the TypeScript files, not tsc's output;
 * - a class keeps its name: esbuild emits one that names itself in its body as `var X = class _X`,
 *   whose name is `_X`, and pino logs an error's `constructor.name` as its `type`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../support/plugins.js';
import { BUNDLE_COPIED, BUNDLE_DIR, BUNDLE_ENTRIES, BUNDLE_META } from '../../src/host/host-bundle/entries.js';

const bundle = join(REPO_ROOT, BUNDLE_DIR);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

test('every worker src/host starts is a bundle entry of the name its URL asks for, built beside the chunks', () => {
  const found: string[] = [];
  for (const file of sources(join(REPO_ROOT, 'src/host'))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('new Worker(')) continue;
    for (const [, name] of text.matchAll(/new URL\('\.\/([\w-]+)\.js', import\.meta\.url\)/g)) {
      const compiled = join('dist', relative(REPO_ROOT, dirname(file)), `${name}.js`);
      assert.equal(BUNDLE_ENTRIES[name!], compiled, `${relative(REPO_ROOT, file)} starts ./${name}.js`);
      assert.ok(existsSync(join(bundle, `${name}.js`)), `${BUNDLE_DIR}/${name}.js is built`);
      found.push(name!);
    }
  }
  // The pipeline worker, the canary, the config thread and the scan codec's worker (dry-configure.ts
  // starts the pipeline worker through pipeline-runner.ts's URL): the check found them all.
  assert.deepEqual([...new Set(found)].sort(), ['bacnet-scan-worker', 'canary-worker', 'config-thread-main', 'worker-main']);
  const chunks = readdirSync(bundle).filter((f) => f.endsWith('.js'));
  assert.ok(chunks.every((f) => !f.includes('/')) && chunks.includes('main.js'));
});

test('files required by a path relative to their module are copied beside the chunks, unchanged', () => {
  const relativeRequires = sources(join(REPO_ROOT, 'src/host')).filter((f) => /createRequire\(import\.meta\.url\)\(`?'?\.\//.test(readFileSync(f, 'utf8')));
  assert.deepEqual(relativeRequires.map((f) => relative(REPO_ROOT, f)), ['src/host/config/standalone-validators.ts']);
  assert.equal(BUNDLE_COPIED.length, relativeRequires.length);
  for (const file of BUNDLE_COPIED) {
    const copy = join(bundle, file.split('/').pop()!);
    assert.deepEqual(readFileSync(copy), readFileSync(join(REPO_ROOT, file)), copy);
  }
});

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }>; inputs: Record<string, unknown> }>;
}

/**
 * The inputs of every chunk that loading the chunks holding `modules` (dist/src/host/…) loads with
 * them; with `dynamic`, also those their `import()`s load (the config thread imports its loader
 * only after the start cache missed).
 */
function inputsLoadedWith(modules: string[], dynamic = false): string[] {
  const meta = JSON.parse(readFileSync(join(REPO_ROOT, BUNDLE_META), 'utf8')) as Metafile;
  const todo = modules.map((m) => {
    const input = `dist/src/host/${m}`;
    const output = Object.keys(meta.outputs).find((o) => Object.hasOwn(meta.outputs[o]!.inputs, input));
    assert.ok(output, `${input} is in the bundle`);
    return output;
  });
  const seen = new Set<string>();
  while (todo.length > 0) {
    const output = todo.pop()!;
    if (seen.has(output)) continue;
    seen.add(output);
    for (const i of meta.outputs[output]!.imports) if ((i.kind === 'import-statement' || (dynamic && i.kind === 'dynamic-import')) && !i.external) todo.push(i.path);
  }
  return [...seen].flatMap((o) => Object.keys(meta.outputs[o]!.inputs));
}

test('the bundled daemon (run, reload, control socket, gateway, fleet client, the pipeline worker) loads neither yaml nor ajv', () => {
  const loaded = inputsLoadedWith(['cli/main.js', 'cli/run.js', 'cli/start-overlap.js', 'reload/reload-from-file.js', 'control/gateway-control.js', 'gateway.js', 'fleet/fleet-agent.js', 'pipeline/worker-main.js']);
  assert.ok(loaded.includes('dist/src/host/gateway.js'));
  assert.deepEqual(loaded.filter((i) => /node_modules\/(yaml|ajv)\//.test(i)), []);
});

test('the check sees them where they are loaded: the bundled config thread', () => {
  const loaded = inputsLoadedWith(['cli/config-thread-main.js'], true);
  assert.ok(loaded.some((i) => i.startsWith('node_modules/yaml/')), 'yaml');
  assert.ok(loaded.some((i) => i.startsWith('node_modules/ajv/')), 'ajv');
});

test("the bundle's source maps name the TypeScript sources", () => {
  const map = JSON.parse(readFileSync(join(bundle, 'main.js.map'), 'utf8')) as { sources: string[] };
  assert.ok(map.sources.includes('../../src/host/cli/main.ts'), map.sources.filter((s) => !s.includes('node_modules')).join(', '));
  assert.ok(!map.sources.some((s) => s.startsWith('../src/')), 'no source is tsc\'s output');
});

test('every class esbuild renames for its own body gets its name back', () => {
  let renamed = 0;
  for (const file of readdirSync(bundle).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(bundle, file), 'utf8');
    for (const m of text.matchAll(/var (\w+) = class _\1\b[^{]*\{/g)) {
      renamed++;
      const body = text.slice(m.index! + m[0].length, m.index! + m[0].length + 200);
      assert.match(body, new RegExp(`^\\s*static \\{\\s*__name\\(this, "${m[1]}"\\);`), `${file}: class ${m[1]}`);
    }
  }
  // MQTT.js's ErrorWithReasonCode and the gateway's own Gateway class are among them.
  assert.ok(renamed >= 10, `${renamed} classes`);
});
