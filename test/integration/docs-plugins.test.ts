// Keeps docs/plugins.md true: its worked example is followed as written, in a temporary folder, with the
// document's own commands (run through the real CLI) and the document's own files; what it shows as
// output must be what the commands print; every wasmgate command it quotes must exist.
//
// The one thing that cannot be taken literally is where things live. The document works in a checkout
// (the example at plugins/clamp imports "../sdk" and 'wasmgate/plugin-harness') and on a gateway with
// wasmgate in /usr/lib/wasmgate. Here the example sits in a temporary folder, so the test runs the
// document's own `plugin new` command there and takes the SDK path and harness specifier that the tool
// itself wrote, in place of the in-checkout ones; and the gateway's /usr/lib/wasmgate/plugins becomes this
// repository's plugins/.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPluginManifest } from '../../src/host/config/index.js';
import { blocksOfKind, inlineCode, shellLines, wasmgateCommand, type WasmgateCommand } from '../support/doc-blocks.js';
import { PLUGIN_BUDGET, REPO_ROOT } from '../support/plugins.js';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'plugins.md'), 'utf8');
const CLI = join(REPO_ROOT, 'bin', 'wasmgate.js');
const EXAMPLE = 'plugins/clamp/';
const GATEWAY_ROOT = '/etc/wasmgate/';
const INSTALLED_PLUGINS = '/usr/lib/wasmgate/plugins';

const files = blocksOfKind(DOC, 'file');
const outputs = blocksOfKind(DOC, 'output');
const commandsIn = (lines: string[]) => lines.map(wasmgateCommand).filter((c): c is WasmgateCommand => c !== undefined);

/** The arguments of the one wasmgate command of the document's shell blocks that starts with `words`. */
function documentedCommand(...words: string[]): string[] {
  const found = commandsIn(shellLines(DOC)).filter((c) => words.every((w, i) => c.args[i] === w));
  assert.equal(found.length, 1, `docs/plugins.md runs "wasmgate ${words.join(' ')}" once in its shell blocks`);
  return found[0]!.args;
}

function wasmgate(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
}

/** The output block `name` of the document, without its last newline. */
function shown(name: string): string {
  const text = outputs.get(name);
  assert.ok(text !== undefined, `docs/plugins.md has an output block marked "output: ${name}"`);
  return text.trimEnd();
}

test('docs/plugins.md: the clamp example, followed as written, builds, checks, passes its tests and validates on a gateway', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'wasmgate-docs-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const work = join(tmp, 'checkout');
  const gateway = join(tmp, 'etc', 'wasmgate');
  await mkdir(work, { recursive: true });
  const pluginDir = join(work, 'plugins', 'clamp');

  await t.test('plugin new writes the files the document then shows', async () => {
    const created = wasmgate(documentedCommand('plugin', 'new'), work);
    assert.equal(created.status, 0, created.stderr + created.stdout);
    const shownFiles = [...files.keys()].filter((f) => f.startsWith(EXAMPLE)).map((f) => f.slice(EXAMPLE.length));
    assert.deepEqual(shownFiles.sort(), (await readdir(pluginDir)).sort());

    const sdk = /export \{ wasmgate_abi_v1, wg_input, wg_output \} from "([^"]+)"/.exec(await readFile(join(pluginDir, 'clamp.ts'), 'utf8'))?.[1];
    const harness = /import \{[^}]*loadPlugin[^}]*\} from '([^']+)'/.exec(await readFile(join(pluginDir, 'clamp.test.mjs'), 'utf8'))?.[1];
    assert.ok(sdk && harness, 'the generated files name the SDK and the harness');
    for (const file of shownFiles) {
      let text = files.get(EXAMPLE + file)!;
      if (file.endsWith('.ts')) {
        assert.match(text, /from "\.\.\/sdk"/, `${file} imports the SDK as plugin new writes it in a checkout`);
        text = text.replaceAll('"../sdk', `"${sdk}`);
      }
      if (file.endsWith('.mjs')) {
        assert.match(text, /from 'wasmgate\/plugin-harness'/, `${file} imports the harness as plugin new writes it in a checkout`);
        text = text.replaceAll("'wasmgate/plugin-harness'", `'${harness}'`);
      }
      await writeFile(join(pluginDir, file), text);
    }
  });

  await t.test('plugin build builds it within the budget, at about the size the document shows', () => {
    const built = wasmgate(documentedCommand('plugin', 'build'), work);
    assert.equal(built.status, 0, built.stderr + built.stdout);
    const line = /^built clamp: \S+\/plugins\/clamp\/build\/clamp\.wasm \((\d+) bytes\)$/;
    const actual = Number(line.exec(built.stdout.trim())?.[1]);
    const documented = Number(line.exec(shown('plugin build'))?.[1]);
    assert.ok(actual > 0 && documented > 0, `${built.stdout} / ${shown('plugin build')}`);
    assert.ok(actual <= PLUGIN_BUDGET, `clamp is ${actual} bytes, over the ${PLUGIN_BUDGET}-byte budget the document promises`);
    // Compiler and SDK changes move the size a little; the document's figure must stay a fair one.
    assert.ok(Math.abs(actual - documented) <= 512, `clamp builds to ${actual} bytes; docs/plugins.md says ${documented}`);
  });

  await t.test('its manifest loads, and the defaults are the ones the document describes', async () => {
    const result = await loadPluginManifest(pluginDir);
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
    assert.equal(result.plugin.manifest.kind, 'transform');
    const settings: Record<string, unknown> = {};
    assert.deepEqual(result.plugin.validateSettings(settings), []);
    assert.deepEqual(settings, { min: null, max: null, action: 'clip', points: {} });
  });

  await t.test("the example's own test file passes", () => {
    const line = shellLines(DOC).find((l) => l.startsWith('node --test '));
    assert.ok(line, 'docs/plugins.md runs the example test with node --test');
    const file = line.slice('node --test '.length).trim();
    // A child of the test runner inherits NODE_TEST_CONTEXT and would report to it instead of stdout.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: work, encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const tests = (files.get(`${EXAMPLE}clamp.test.mjs`)!.match(/^test\(/gm) ?? []).length;
    assert.ok(tests > 0);
    assert.match(run.stdout, new RegExp(`^# pass ${tests}$`, 'm'));
    assert.match(run.stdout, /^# fail 0$/m);
  });

  await t.test('shipped as the document says, the gateway configuration validates, and a typo is positioned', async () => {
    const copy = shellLines(DOC).find((l) => /^scp -r plugins\/clamp \S+:\/etc\/wasmgate\/plugins\/$/.test(l));
    assert.ok(copy, 'docs/plugins.md copies the plugin folder into /etc/wasmgate/plugins/');
    await cp(pluginDir, join(gateway, 'plugins', 'clamp'), { recursive: true });
    for (const [name, text] of files) {
      if (!name.startsWith(GATEWAY_ROOT)) continue;
      const target = join(gateway, name.slice(GATEWAY_ROOT.length));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text.replaceAll(INSTALLED_PLUGINS, join(REPO_ROOT, 'plugins')));
    }
    const gatewayFile = files.get(`${GATEWAY_ROOT}gateway.yaml`);
    assert.ok(gatewayFile?.includes(INSTALLED_PLUGINS), `the gateway file names ${INSTALLED_PLUGINS} among plugin_dirs`);

    const validate = documentedCommand('validate');
    const valid = wasmgate(validate, gateway);
    assert.equal(valid.stdout.trim(), shown('validate'), valid.stderr);
    assert.equal(valid.status, 0);

    const pipeline = join(gateway, 'pipelines', 'tank-farm.yaml');
    const text = await readFile(pipeline, 'utf8');
    assert.ok(text.includes('action: clip'), 'the pipeline sets action: clip, which the document then mistypes');
    await writeFile(pipeline, text.replace('action: clip', 'action: cut'));
    const typo = wasmgate(validate, gateway);
    assert.equal(typo.stdout.trim(), shown('validate with action: cut'), typo.stderr);
    assert.equal(typo.status, 1);
  });
});

test('docs/plugins.md: every wasmgate command it quotes is a real command with real options', () => {
  // Asked of the CLI itself: `wasmgate <command> [sub] --help` must succeed and list each option quoted.
  const quoted = commandsIn([...shellLines(DOC), ...inlineCode(DOC)]);
  assert.ok(quoted.length >= 4, `found ${quoted.length} commands`);
  for (const { line, args } of quoted) {
    const words = args.slice(0, args[0] === 'plugin' ? 2 : 1);
    const help = wasmgate([...words, '--help'], REPO_ROOT);
    assert.equal(help.status, 0, `"${line}": wasmgate ${words.join(' ')} --help failed: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^Usage: wasmgate ${words.join(' ')} `), `"${line}": no command "${words.join(' ')}"`);
    for (const flag of args.map((a) => a.replace(/^\[/, '')).filter((a) => a.startsWith('--'))) {
      assert.ok(new RegExp(`(^|[ ,])${flag}\\b`, 'm').test(help.stdout), `"${line}": no option ${flag} in wasmgate ${words.join(' ')} --help`);
    }
  }
});

test('docs/plugins.md: every SDK module it names exists', () => {
  const named = new Set([...DOC.matchAll(/\bsdk\/([a-z0-9-]+)/g)].map((m) => m[1]!));
  assert.ok(named.size > 0);
  for (const module of named) assert.ok(existsSync(join(REPO_ROOT, 'plugins', 'sdk', `${module}.ts`)), `plugins/sdk/${module}.ts`);
});
