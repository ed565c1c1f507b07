/**
 * Reading the configuration loads no network client: the mqtt_subscribe source's listener brings
 * MQTT.js (about 150 modules) only when it starts, as the MQTT uplink's sink does, so `validate` and
 * the daemon's config thread stay as small as before the source kind existed. What broke before: the
 * source kind imported its listener at the top, and the config loader loaded all of MQTT.js.
 * Checked as daemon-config-modules.test.ts checks yaml and ajv: a child process whose module
 * resolution records every file of `mqtt` asked for; and that it sees them where they are loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/plugins.js';

const HOOK = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/node_modules\\/mqtt\\//.test(r.url)) console.error('LOADED ' + r.url);
  return r;
}`;

function mqttLoadedBy(file: string): string[] {
  const script = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/host', file)).href)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
}

test('the config loader, with every source kind registered, loads no MQTT.js', () => {
  assert.deepEqual(mqttLoadedBy('config/index.js'), []);
});

test('the check sees MQTT.js where it is loaded: the subscription listener', () => {
  assert.ok(mqttLoadedBy('sources/mqtt-subscription.js').length > 0);
});
