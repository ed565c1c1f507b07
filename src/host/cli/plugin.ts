/**
 * `wasmgate plugin build [DIR... | --all]`: compile AssemblyScript plugin folders.
 * `wasmgate plugin new NAME --kind decoder|transform|encoder [--dir DIR]`: write a working plugin folder.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { buildPlugin, listPluginDirs } from '../plugin-build/build.js';
import { newPlugin } from '../plugin-build/template.js';
import { renderSettingsReference } from '../plugin-build/settings-reference.js';
import { writeFile } from 'node:fs/promises';
import type { PluginKind } from '../engine/abi.js';

const USAGE = `usage: wasmgate plugin build [DIR... | --all]
       wasmgate plugin new NAME --kind decoder|transform|encoder [--dir DIR]   (DIR defaults to plugins/NAME)
       wasmgate plugin docs [--out FILE]   (the built-in plugins' settings reference; default docs/plugin-settings.md)`;
const KINDS: readonly PluginKind[] = ['decoder', 'transform', 'encoder'];

export async function runPluginCommand(args: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'build') return build(rest, out);
  if (sub === 'new') return create(rest, out);
  if (sub === 'docs') return docs(rest, out);
  out(USAGE);
  return 2;
}

async function build(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { all: { type: 'boolean' } }, allowPositionals: true });
  const dirs = values.all ? await listPluginDirs() : positionals;
  if (dirs.length === 0) {
    out(`plugin build: name a plugin folder or pass --all\n${USAGE}`);
    return 2;
  }
  for (const dir of dirs) {
    const built = await buildPlugin(dir);
    out(`built ${built.name}: ${built.wasm} (${built.bytes} bytes)`);
  }
  return 0;
}

async function create(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { kind: { type: 'string' }, dir: { type: 'string' } }, allowPositionals: true });
  const [name] = positionals;
  const kind = values.kind as PluginKind | undefined;
  if (!name || positionals.length !== 1 || !kind || !KINDS.includes(kind)) {
    out(`plugin new: give one NAME and --kind ${KINDS.join('|')}\n${USAGE}`);
    return 2;
  }
  const created = await newPlugin(name, kind, values.dir ?? join('plugins', name));
  out(`created ${kind} plugin ${name} in ${created.dir}: ${created.files.join(', ')}`);
  out(`next: wasmgate plugin build ${created.dir} && node --test ${join(created.dir, `${name}.test.mjs`)}`);
  return 0;
}

async function docs(args: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  const file = values.out ?? join('docs', 'plugin-settings.md');
  await writeFile(file, await renderSettingsReference());
  out(`wrote ${file}`);
  return 0;
}
