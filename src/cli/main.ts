/**
 * The `wasmgate` command line. Each command lives in its own module; this file only dispatches.
 */
import { parseArgs } from 'node:util';
import { isWgError } from '../host/errors.js';
import { buildPlugin, listPluginDirs } from '../host/plugin-build/build.js';

const USAGE = `usage: wasmgate <command> [options]

commands:
  run --config FILE          run the gateway
  validate --config FILE     check a gateway file and its pipelines; print every problem
  demo                       run the demo: embedded PLC simulator + MQTT broker (if none answers on :1883)
  plugin build [DIR | --all] compile AssemblyScript plugin folders to .wasm
`;

async function pluginCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'build') {
    console.error(USAGE);
    return 2;
  }
  const { values, positionals } = parseArgs({ args: rest, options: { all: { type: 'boolean' } }, allowPositionals: true });
  const dirs = values.all ? await listPluginDirs() : positionals;
  if (dirs.length === 0) {
    console.error('plugin build: name a plugin folder or pass --all');
    return 2;
  }
  for (const dir of dirs) {
    const built = await buildPlugin(dir);
    console.log(`built ${built.name}: ${built.wasm} (${built.bytes} bytes)`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'plugin':
        return await pluginCommand(args);
      default:
        console.error(USAGE);
        return command === undefined || command === '--help' ? 0 : 2;
    }
  } catch (err) {
    if (isWgError(err)) {
      console.error(err.toString());
      return 1;
    }
    throw err;
  }
}
