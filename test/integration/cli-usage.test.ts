/**
 * The command line behaves like the tools people know. What broke: `-h`/`--help` worked only at the
 * top (`wasmgate validate --help` complained that --help is unknown), there was no `--version`, a
 * mistyped command got no suggestion, the top-level help did not list `plugin new`/`plugin docs`, and
 * a pipeline file given as the gateway file drew a schema error for every key instead of saying so.
 * Each case runs the real bin/wasmgate.js as a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/plugins.js';

function wasmgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'bin/wasmgate.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
}

const COMMANDS = [['run'], ['status'], ['validate'], ['demo'], ['plugin'], ['plugin', 'build'], ['plugin', 'new'], ['plugin', 'docs']];

for (const words of COMMANDS) {
  for (const flag of ['-h', '--help']) {
    test(`wasmgate ${words.join(' ')} ${flag} prints its usage to stdout and exits 0`, () => {
      const r = wasmgate(...words, flag);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: wasmgate ${words.join(' ')} `));
      assert.equal(r.stderr, '');
    });
  }
}

test('wasmgate help <command> is the same as <command> --help', () => {
  assert.equal(wasmgate('help', 'validate').stdout, wasmgate('validate', '--help').stdout);
});

test('the top-level help lists every command, plugin subcommands included, and the exit codes', () => {
  const top = wasmgate('--help');
  assert.equal(top.status, 0);
  for (const command of ['run', 'status', 'validate', 'demo', 'plugin']) assert.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  const plugin = wasmgate('plugin', '--help').stdout;
  for (const sub of ['build', 'new', 'docs']) assert.match(plugin, new RegExp(`^  ${sub}\\b`, 'm'));
  assert.match(top.stdout, /Exit codes: 0 .*, 1 .*, 2 /);
});

test('--version and -V print the version of package.json', () => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = wasmgate(flag);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), version);
  }
});

test('a mistyped command or option is a usage error (exit 2) with a suggestion', () => {
  const command = wasmgate('vaildate', '--config', 'x.yaml');
  assert.equal(command.status, 2);
  assert.match(command.stderr, /unknown command 'vaildate'\n\(Did you mean validate\?\)/);
  const sub = wasmgate('plugin', 'biuld');
  assert.equal(sub.status, 2);
  assert.match(sub.stderr, /Did you mean build\?/);
  const option = wasmgate('validate', '--confg', 'x.yaml');
  assert.equal(option.status, 2);
  assert.match(option.stderr, /unknown option '--confg'\n\(Did you mean --config\?\)/);
});

test('a missing --config, a bad --kind and no command at all are usage errors (exit 2)', () => {
  const missing = wasmgate('validate');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /required option '-c, --config <file>' not specified/);
  const kind = wasmgate('plugin', 'new', 'x', '--kind', 'filter');
  assert.equal(kind.status, 2);
  assert.match(kind.stderr, /Allowed choices are decoder, transform, encoder/);
  const none = wasmgate();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^Usage: wasmgate /);
});

test('a pipeline file or a plugin manifest given as the gateway file is named as such', () => {
  const pipeline = wasmgate('validate', '--config', 'pipelines/demo-boiler.yaml');
  assert.equal(pipeline.status, 1);
  const lines = pipeline.stdout.trim().split('\n');
  assert.equal(lines.length, 2, pipeline.stdout);
  assert.match(lines[0]!, /^pipelines\/demo-boiler\.yaml:\d+:1 this is a pipeline file, not a gateway file: pass the gateway file/);
  const manifest = wasmgate('validate', '--config', 'plugins/json/plugin.yaml');
  assert.match(manifest.stdout, /^plugins\/json\/plugin\.yaml:1:1 this is a plugin manifest, not a gateway file/);
});
