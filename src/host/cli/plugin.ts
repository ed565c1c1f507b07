/** `wasmgate plugin build [DIR... | --all]`: compile AssemblyScript plugin folders. */
import { parseArgs } from 'node:util';
import { buildPlugin, listPluginDirs } from '../plugin-build/build.js';

export async function runPluginCommand(args: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'build') {
    out('usage: wasmgate plugin build [DIR... | --all]');
    return 2;
  }
  const { values, positionals } = parseArgs({ args: rest, options: { all: { type: 'boolean' } }, allowPositionals: true });
  const dirs = values.all ? await listPluginDirs() : positionals;
  if (dirs.length === 0) {
    out('plugin build: name a plugin folder or pass --all');
    return 2;
  }
  for (const dir of dirs) {
    const built = await buildPlugin(dir);
    out(`built ${built.name}: ${built.wasm} (${built.bytes} bytes)`);
  }
  return 0;
}
