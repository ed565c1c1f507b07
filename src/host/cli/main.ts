/**
 * The `wasmgate` command line. Each command lives in its own module; this file only dispatches.
 */
import { parseArgs } from 'node:util';
import { isWgError } from '../errors.js';
import { runPluginCommand } from './plugin.js';
import { runCommand } from './run.js';
import { runValidate } from './validate.js';
import { runDemo } from './demo.js';

const USAGE = `usage: wasmgate <command> [options]

commands:
  run --config FILE          run the gateway
  validate --config FILE     check a gateway file and its pipelines; print every problem
  demo                       the demo: embedded PLC simulator, and an embedded MQTT broker on
                             127.0.0.1:1883 unless one answers there already
  plugin build [DIR | --all] compile AssemblyScript plugin folders to .wasm
`;

const print = (line: string) => console.log(line);
const printErr = (line: string) => console.error(line);

function configArg(args: string[]): string | undefined {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, allowPositionals: false });
  return values.config;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'run': {
        const config = configArg(args);
        if (!config) return usage('run needs --config FILE');
        return await runCommand(config, printErr);
      }
      case 'validate': {
        const config = configArg(args);
        if (!config) return usage('validate needs --config FILE');
        return await runValidate({ config }, print);
      }
      case 'demo':
        return await runDemo(args, printErr);
      case 'plugin':
        return await runPluginCommand(args, print);
      case undefined:
      case '--help':
      case 'help':
        print(USAGE);
        return 0;
      default:
        return usage(`unknown command "${command}"`);
    }
  } catch (err) {
    if (isWgError(err)) {
      printErr(err.toString());
      return 1;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return usage(err.message);
    throw err;
  }
}

function usage(problem: string): number {
  printErr(`wasmgate: ${problem}\n\n${USAGE}`);
  return 2;
}
