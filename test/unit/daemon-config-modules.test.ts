/**
 * The daemon's heap never loads the configuration's modules: `run` reads the files in a thread of its
 * own (src/host/cli/config-thread.ts), which exits with them. What broke before: run.ts, the reload and
 * the control socket's `read` imported the config loader at the top, so the YAML parser, ajv and the
 * compiled schemas stayed in the main heap for the life of the process (bench/gateway.bench.ts,
 * "config modules": about 5.6 MB of heap, 10 MB private). Checked by loading the daemon's modules in a
 * child process whose module resolution records every file of `yaml` and `ajv` asked for; and the
 * other way round, that the recording sees them when the config loader is imported (so the check can fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/plugins.js';

const HOOK = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/node_modules\\/(yaml|ajv)\\//.test(r.url)) console.error('LOADED ' + r.url);
  return r;
}`;

function modulesLoadedBy(files: string[]): string[] {
  const imports = files.map((f) => `await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/host', f)).href)});`).join('\n');
  const script = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
${imports}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
}

test('the daemon (run and what it loads while the config is read, reload, control socket, gateway, fleet client) loads neither yaml nor ajv', () => {
  assert.deepEqual(modulesLoadedBy(['cli/main.js', 'cli/run.js', 'cli/start-overlap.js', 'cli/config-cache.js', 'reload/reload-from-file.js', 'control/gateway-control.js', 'gateway.js', 'fleet/fleet-agent.js']), []);
});

test('the check sees them where they are loaded: the config loader', () => {
  const loaded = modulesLoadedBy(['config/index.js']);
  assert.ok(loaded.some((l) => l.includes('/node_modules/yaml/')), loaded.join('\n'));
  assert.ok(loaded.some((l) => l.includes('/node_modules/ajv/')), loaded.join('\n'));
});
