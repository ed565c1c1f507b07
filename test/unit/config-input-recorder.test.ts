/**
 * The recording behind the start cache (src/host/config/input-recorder.ts, config-inputs.ts), in a
 * worker thread of its own as the config thread runs it: every read of node:fs in each of its three
 * forms and every environment variable asked is an input, with its outcome made again by `observe`;
 * anything that is not a read taints the record (no cache); and an input that changes afterwards is
 * the one `firstChanged` names. The expected inputs are the files and variables the worker's code
 * below touches, listed by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/plugins.js';
import { firstChanged, type ConfigInput } from '../../src/host/config/config-inputs.js';

const RECORDER = pathToFileURL(join(REPO_ROOT, 'dist/src/host/config/input-recorder.js')).href;

/** Runs `body` (module code, with `dir` bound) in a worker after recordInputs(); answers the record. */
async function recordIn(dir: string, body: string, env: Record<string, string>): Promise<{ inputs: ConfigInput[]; taint?: string }> {
  const code = `import { parentPort } from 'node:worker_threads';
const { recordInputs } = await import(${JSON.stringify(RECORDER)});
const fs = await import('node:fs');
const fsp = await import('node:fs/promises');
const dir = ${JSON.stringify(dir)};
const record = recordInputs();
${body}
parentPort.postMessage({ inputs: record.inputs(), taint: record.taint() });`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { env: { ...process.env, ...env } });
  const [answer] = (await once(worker, 'message')) as [{ inputs: ConfigInput[]; taint?: string }];
  await worker.terminate();
  return answer;
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

test('reads in all three forms, stats, access, listings and variables are inputs with their outcomes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
  writeFileSync(join(dir, 'b.yaml'), 'b: 2\n');
  writeFileSync(join(dir, 'secret'), 'pw\n');
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(join(dir, 'plugins', 'x.wasm'), 'not really');
  const { inputs, taint } = await recordIn(
    dir,
    `await fsp.readFile(dir + '/a.yaml');
fs.readFileSync(dir + '/b.yaml');
await new Promise((r) => fs.readFile(dir + '/a.yaml', r));
await fsp.access(dir + '/secret', fs.constants.R_OK);
fs.existsSync(dir + '/missing.yaml');
fs.readdirSync(dir + '/plugins');
const h = await fsp.open(dir + '/b.yaml', 'r'); await h.close();
process.env.WG_TEST_VAR; 'WG_TEST_UNSET' in process.env;`,
    { WG_TEST_VAR: 'value' },
  );
  assert.equal(taint, undefined);
  const seen = (op: string, target: string) => inputs.find((i) => i.op === op && i.target === target);
  assert.equal(seen('read', join(dir, 'a.yaml'))?.outcome, sha('a: 1\n'));
  assert.equal(seen('read', join(dir, 'b.yaml'))?.outcome, sha('b: 2\n'));
  assert.equal(seen('access', join(dir, 'secret'))?.outcome, 'ok');
  assert.equal(seen('stat', join(dir, 'missing.yaml'))?.outcome, 'error:ENOENT');
  assert.equal(seen('readdir', join(dir, 'plugins'))?.outcome, sha('x.wasm/f'));
  assert.equal(seen('env', 'WG_TEST_VAR')?.outcome, `set:${sha('value')}`);
  assert.equal(seen('env', 'WG_TEST_UNSET')?.outcome, 'unset');
  // Each (op, target) once: a.yaml read twice, b.yaml read and opened.
  assert.equal(inputs.filter((i) => i.op === 'read' && i.target === join(dir, 'a.yaml')).length, 1);
  assert.equal(inputs.filter((i) => i.op === 'read' && i.target === join(dir, 'b.yaml')).length, 1);

  // Unchanged, every input holds; then each change is the one named.
  const env = { ...process.env, WG_TEST_VAR: 'value' };
  assert.equal(firstChanged(inputs, env), undefined);
  assert.equal(firstChanged(inputs, { ...env, WG_TEST_VAR: 'other' })?.target, 'WG_TEST_VAR');
  assert.equal(firstChanged(inputs, { ...env, WG_TEST_UNSET: '' })?.target, 'WG_TEST_UNSET');
  writeFileSync(join(dir, 'plugins', 'y.wasm'), '');
  assert.equal(firstChanged(inputs, env)?.target, join(dir, 'plugins'));
  rmSync(join(dir, 'plugins', 'y.wasm'));
  writeFileSync(join(dir, 'missing.yaml'), 'now here\n');
  assert.equal(firstChanged(inputs, env)?.target, join(dir, 'missing.yaml'));
  rmSync(join(dir, 'missing.yaml'));
  writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
  assert.equal(firstChanged(inputs, env)?.target, join(dir, 'a.yaml'));
});

test('a write, a watch, a file opened for writing and a changed variable taint the record', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: Array<[string, RegExp]> = [
    [`await fsp.writeFile(dir + '/out', 'x');`, /^fs\.promises\.writeFile$/],
    [`fs.mkdirSync(dir + '/d');`, /^fs\.mkdirSync$/],
    [`fs.watch(dir).close();`, /^fs\.watch$/],
    [`const h = await fsp.open(dir + '/out2', 'w'); await h.close();`, /for writing/],
    [`process.env.WG_SET_BY_LOAD = '1';`, /WG_SET_BY_LOAD written/],
  ];
  for (const [body, expected] of cases) {
    const { taint } = await recordIn(dir, body, {});
    assert.match(taint ?? '(none)', expected, body);
  }
});
