/**
 * `wasmgate plugin build|new|docs`: the work of each subcommand, once main.ts has parsed its
 * arguments. Imported only by these commands, since it pulls in the AssemblyScript toolchain.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin, listPluginDirs } from '../plugin-build/build.js';
import { newPlugin } from '../plugin-build/template.js';
import { renderSettingsReference } from '../plugin-build/settings-reference.js';
import type { PluginKind } from '../engine/abi.js';
import { WgError } from '../errors.js';

/**
 * The AssemblyScript compiler is an optional peer dependency: a gateway runs built plugins without
 * it, a plugin author installs it next to wasmgate.
 */
function assertCompilerInstalled(): void {
  try {
    import.meta.resolve('assemblyscript/asc');
  } catch {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: 'plugin build needs the AssemblyScript compiler: npm install --save-dev assemblyscript' });
  }
}

/** Builds the folders given, or every folder of the package's plugins/ directory. */
export async function buildPlugins(dirs: string[] | 'all', out: (line: string) => void): Promise<number> {
  assertCompilerInstalled();
  for (const dir of dirs === 'all' ? await listPluginDirs() : dirs) {
    const built = await buildPlugin(dir);
    out(`built ${built.name}: ${built.wasm} (${built.bytes} bytes)`);
    for (const tool of built.tools) out(`built ${built.name} tool ${tool.name}: ${tool.wasm} (${tool.bytes} bytes)`);
  }
  return 0;
}

export async function createPlugin(name: string, kind: PluginKind, dir: string | undefined, out: (line: string) => void): Promise<number> {
  const created = await newPlugin(name, kind, dir ?? join('plugins', name));
  out(`created ${kind} plugin ${name} in ${created.dir}: ${created.files.join(', ')}`);
  out(`next: wasmgate plugin build ${created.dir} && node --test ${join(created.dir, `${name}.test.mjs`)}`);
  return 0;
}

export async function writePluginDocs(file: string, out: (line: string) => void): Promise<number> {
  await writeFile(file, await renderSettingsReference());
  out(`wrote ${file}`);
  return 0;
}
