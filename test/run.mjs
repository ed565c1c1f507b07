#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js), and the tests that live in plugin folders
// (plugins/*/*.test.mjs, as `wasmgate plugin new` writes them), with Node's own test runner. Node 20 runs
// every file of a directory it is given, support modules included, so the list is made here.
// Usage: node test/run.mjs [filter-substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, suffix) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'build') return [];
    if (statSync(path).isDirectory()) return collect(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = [...collect('dist/test', '.test.js'), ...collect('plugins', '.test.mjs')]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A test that hangs fails after two minutes instead of holding the run (and CI) until its own limit.
// --test-force-exit: a file whose tests have all finished ends, even if a handle lingers in it. In full
// runs containment-plugins.test.js passed every test and still ran into the two minutes now and then
// (never alone, never with the file next to it): a handle left open somewhere, not yet found; this keeps
// it from failing a run whose tests passed. Remove it once the handle is found.
const result = spawnSync(process.execPath, ['--test', '--test-force-exit', '--test-concurrency=2', '--test-timeout=120000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
