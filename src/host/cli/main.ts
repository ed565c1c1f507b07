/**
 * The `wasmgate` command line: commands, options, help, `--version` and usage errors are declared here
 * with commander; each command's work lives in its own module and is imported only when that command
 * runs, so `run` never loads the plugin compiler and `--help` loads neither (start time is a product
 * target). Exit codes: 0 success, 1 the command failed (an invalid configuration, a gateway that could
 * not start or stop in time), 2 the command line is wrong.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { MAX_TIMER_MS, parseDuration } from '../config/units.js';
import { isWgError, WgError } from '../errors.js';
import { addDaemonOptions, addLinkOptions, commissionTarget, readRange, type DaemonOptions, type LinkOptions } from './commission-options.js';
import type { DaemonChoice } from './through-daemon.js';
import type { PluginKind } from '../engine/abi.js';
import { packageVersion } from './package-version.js';
import { markStart } from '../start-marks.js';
import type { RolloutCliOptions } from './fleet.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const KINDS: readonly PluginKind[] = ['decoder', 'transform', 'encoder'];

export interface CliOutput {
  /** Results a script may read (validate's report, plugin build's list). */
  out(line: string): void;
  /** Help and version go to `out`; usage errors, problems and logs of the demo go here. */
  err(line: string): void;
}

const consoleOutput: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** A subcommand whose usage errors point at its own help. */
function subcommand(parent: Command, name: string, description: string): Command {
  const path = [parent.name(), name].filter((n) => n !== 'wasmgate').join(' ');
  return parent.command(name).description(description).showHelpAfterError(`(wasmgate ${path} --help for usage)`);
}

/**
 * The gateway file option. Checked in the action rather than declared mandatory, so that a mistyped
 * `--confg` is reported as unknown, with a suggestion, before the missing --config.
 */
function gatewayFile(command: Command, options: { config?: string }): string {
  if (options.config === undefined) command.error("error: required option '-c, --config <file>' not specified", { exitCode: EXIT_USAGE });
  return options.config;
}

function program(io: CliOutput, setExit: (code: number) => void): Command {
  const root = new Command('wasmgate')
    .description('Edge IoT gateway: polls field devices, runs a chain of sandboxed WebAssembly plugins, publishes to MQTT.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(wasmgate --help lists every command)')
    .addHelpText('after', '\nExit codes: 0 success, 1 the command failed (invalid configuration, gateway failure), 2 wrong command line.\nDocumentation: docs/cli.md, docs/config.md.')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  // Subcommands copy these settings when created, so each one reports usage errors the same way.
  root.exitOverride();

  subcommand(root, 'run', 'validate the configuration, then run the gateway until SIGTERM, SIGINT or SIGQUIT')
    .option('-c, --config <file>', 'gateway file (YAML); required')
    .option('--stop-timeout <duration>', 'how long a stop may drain before the process exits anyway, as 25s or 2m; keep it below systemd\'s TimeoutStopSec', '25s')
    .action(async (options: { config?: string; stopTimeout: string }, command: Command) => {
      const file = gatewayFile(command, options);
      const stop = parseDuration(/^\d+$/.test(options.stopTimeout) ? Number(options.stopTimeout) : options.stopTimeout);
      if (!stop.ok || stop.value === 0 || stop.value > MAX_TIMER_MS) {
        command.error(`error: --stop-timeout ${options.stopTimeout}: give a duration from 1ms to ${MAX_TIMER_MS}ms, as 25s or 2m`, { exitCode: EXIT_USAGE });
      }
      markStart('cli');
      // The config thread starts first; the daemon's modules load on this thread while it works.
      const { startOverlapped } = await import('./start-overlap.js');
      const start = startOverlapped(file);
      const { runCommand } = await import('./run.js');
      setExit(await runCommand(file, io.err, { stopDeadlineMs: stop.value }, start));
    });

  subcommand(root, 'status', "ask the running daemon, over its control socket, for its pipelines, steps, links, devices and uplinks")
    .option('-c, --config <file>', "gateway file: use its control.socket (or that setting's default)")
    .option('--socket <path>', 'control socket path (default: $WASMGATE_SOCKET, else /run/wasmgate/control.sock)')
    .option('--json', 'print the status object as JSON')
    .action(async (options: { config?: string; socket?: string; json?: boolean }, command: Command) => {
      if (options.config !== undefined && options.socket !== undefined) command.error('error: give --config or --socket, not both', { exitCode: EXIT_USAGE });
      const { runStatus } = await import('./status.js');
      setExit(await runStatus({ json: options.json === true, ...(options.config !== undefined ? { config: options.config } : {}), ...(options.socket !== undefined ? { socket: options.socket } : {}) }, io.out, io.err));
    });

  subcommand(root, 'reload', "ask the running daemon to read its files again and apply what changed, pipeline by pipeline (as SIGHUP does)")
    .option('-c, --config <file>', "gateway file: use its control.socket (or that setting's default)")
    .option('--socket <path>', 'control socket path (default: $WASMGATE_SOCKET, else /run/wasmgate/control.sock)')
    .action(async (options: { config?: string; socket?: string }, command: Command) => {
      if (options.config !== undefined && options.socket !== undefined) command.error('error: give --config or --socket, not both', { exitCode: EXIT_USAGE });
      const { runReload } = await import('./reload.js');
      setExit(await runReload({ ...(options.config !== undefined ? { config: options.config } : {}), ...(options.socket !== undefined ? { socket: options.socket } : {}) }, io.out, io.err));
    });

  subcommand(root, 'validate', 'check a gateway file, its pipelines and their plugins; print every problem as file:line:col')
    .option('-c, --config <file>', 'gateway file (YAML); required')
    .action(async (options: { config?: string }, command: Command) => {
      const file = gatewayFile(command, options);
      const { runValidate } = await import('./validate.js');
      setExit(await runValidate({ config: file }, io.out));
    });

  subcommand(root, 'demo', 'run the demo: a simulated PLC, and an embedded MQTT broker on 127.0.0.1:1883 unless one answers there')
    .option('-c, --config <file>', 'gateway file to run the demo with (default: the shipped config/demo.yaml)')
    .action(async (options: { config?: string }) => {
      const { runDemo } = await import('./demo.js');
      setExit(await runDemo(options.config, io.err));
    });

  const probe = subcommand(root, 'probe', 'read a register range from one device and print every reading of it side by side (int16 … float64 in each byte order, ASCII)')
    .option('--unit <id>', 'unit id (slave address)', '1')
    .addOption(new Option('--function <fn>', 'read function: 1 coils, 2 discrete inputs, 3 holding, 4 input registers').choices(['1', '2', '3', '4']).default('3'))
    .option('--address <n>', 'first address, 0-based', '0')
    .option('--count <n>', 'registers (or bits) to read', '10')
    .option('--json', 'print one JSON document instead of a table');
  addDaemonOptions(addLinkOptions(probe, '1s'), true).action(async (options: LinkOptions & ReadOptions & DaemonOptions, command: Command) => {
    await commission(command, io, setExit, async () => {
      const { runProbe } = await import('./probe.js');
      const target = commissionTarget(options, readRange(options), { min: 0, max: 255 });
      if (target.units.length !== 1) throw new WgError('WG_ERR_CLI_USAGE', { detail: '--unit: probe reads one unit id; scan modbus asks many' });
      return runProbe(target, options.json === true, daemonChoice(options), io.out, io.err);
    });
  });

  const scan = subcommand(root, 'scan', 'find devices that answer');
  const scanModbus = subcommand(scan, 'modbus', 'ask every unit id of a range on one serial port or TCP host, and list those that answer with what they hold')
    .option('--unit <ids>', 'unit ids to ask: 1..247, 1,2,5 (default 1..247 on a bus, 0..255 over TCP)')
    .addOption(new Option('--function <fn>', 'read function: 1 coils, 2 discrete inputs, 3 holding, 4 input registers').choices(['1', '2', '3', '4']).default('3'))
    .option('--address <n>', 'first address, 0-based', '0')
    .option('--count <n>', 'registers (or bits) to read from each', '1')
    .option('--json', 'print one JSON document instead of lines');
  addDaemonOptions(addLinkOptions(scanModbus, '200ms'), true).action(async (options: LinkOptions & ReadOptions & DaemonOptions, command: Command) => {
    await commission(command, io, setExit, async () => {
      const { runScan } = await import('./scan.js');
      const unit = options.unit ?? (options.tcp !== undefined ? '0..255' : '1..247');
      return runScan(commissionTarget({ ...options, unit }, readRange(options), { min: 0, max: 255 }), options.json === true, daemonChoice(options), io.out, io.err);
    });
  });

  subcommand(scan, 'bacnet', 'Who-Is on a BACnet/IP address or broadcast address, then list each answering device\'s objects with their names, present values and units')
    .option('--target <host[:port]|broadcast-address>', 'a device\'s address, or the broadcast address of its network (192.168.1.255)')
    .option('--port <n>', 'UDP port of the devices, when --target gives none', '47808')
    .option('--low <instance>', 'lowest device instance the Who-Is asks for (with --high)')
    .option('--high <instance>', 'highest device instance the Who-Is asks for (with --low)')
    .option('--timeout <duration>', 'wait for the I-Ams after each Who-Is, and for each answer', '1s')
    .option('--retries <n>', 'extra attempts of the Who-Is and of each request', '1')
    .option('--max-devices <n>', 'most devices read', '100')
    .option('--max-objects <n>', 'most objects read per device', '1000')
    .option('--local-port <n>', 'UDP port the scan binds (0: one the OS picks; 47808 to hear I-Ams broadcast to the BACnet port)', '0')
    .option('--broadcast', 'send the Who-Is as a broadcast (the default for an address ending in .255)')
    .option('--local', 'keep the Who-Is to the IP network (no DNET 0xffff: routers do not pass it on to the devices behind them)')
    .option('--json', 'print one JSON document instead of lines')
    .option('--pipeline-yaml', 'print a pipeline file whose bacnet_ip source reads the present values found')
    .addHelpText('after', '\nExit codes: 0 some device answered the Who-Is, 1 none did, 2 wrong command line. Stand-alone: never through a running daemon (docs/cli.md).')
    .action(async (options: import('./scan-bacnet.js').ScanBacnetOptions, command: Command) => {
      await commission(command, io, setExit, async () => {
        const { runScanBacnet } = await import('./scan-bacnet.js');
        return runScanBacnet(options, io.out, io.err);
      });
    });

  const write = subcommand(root, 'write', "write one point of a configured device, encoded from the point's type, order and scale, and confirmed by the device's echo")
    .argument('<device>', 'device name, as in its pipeline file')
    .argument('<point>', 'point name (access: write or read_write)')
    .argument('<value>', 'the value in engineering units (after scale and offset): 42, -1.5, true')
    .option('-c, --config <file>', 'gateway file (YAML); required')
    .option('--pipeline <name>', 'the pipeline, when several have a device of that name')
    .option('--json', 'print the outcome as JSON');
  addDaemonOptions(write, false).action(async (device: string, point: string, value: string, options: DaemonOptions & { pipeline?: string; json?: boolean }, command: Command) => {
    const config = gatewayFile(command, options);
    await commission(command, io, setExit, async () => {
      const { runWrite } = await import('./write.js');
      return runWrite({ config, device, point, value, json: options.json === true, daemon: daemonChoice({ ...options, config }), ...(options.pipeline ? { pipeline: options.pipeline } : {}) }, io.out, io.err);
    });
  });

  subcommand(root, 'schema', 'print the JSON Schema of the gateway or the pipeline file, for an editor (docs/config.md, "Editor support")')
    .addArgument(new Argument('[file]', 'which file').choices(['gateway', 'pipeline']))
    .option('--write <dir>', 'write both, as gateway.schema.json and pipeline.schema.json, into this directory')
    .action(async (file: 'gateway' | 'pipeline' | undefined, options: { write?: string }, command: Command) => {
      if ((file === undefined) === (options.write === undefined)) command.error('error: name gateway or pipeline, or pass --write <dir> (not both)', { exitCode: EXIT_USAGE });
      const { printSchema, writeSchemas } = await import('./schema.js');
      setExit(options.write !== undefined ? await writeSchemas(options.write, io.out) : await printSchema(file!, io.out));
    });
  const plugin = subcommand(root, 'plugin', 'build, create, document, package, sign and install plugins');
  subcommand(plugin, 'build', 'compile AssemblyScript plugin folders to .wasm')
    .argument('[dirs...]', 'plugin folders, each holding plugin.yaml and <name>.ts')
    .option('--all', "build every plugin folder of the package's plugins/ directory")
    .action(async (dirs: string[], options: { all?: boolean }, command: Command) => {
      if ((dirs.length > 0) === (options.all === true)) command.error('error: name plugin folders or pass --all (not both)', { exitCode: EXIT_USAGE });
      const { buildPlugins } = await import('./plugin.js');
      setExit(await buildPlugins(options.all ? 'all' : dirs, io.out));
    });
  subcommand(plugin, 'new', 'write a working plugin folder (source, manifest, tests) to start from')
    .argument('<name>', 'plugin name: a lower-case letter, then lower-case letters, digits, "_" or "-"')
    .addOption(new Option('--kind <kind>', 'what the plugin does in a chain').choices(KINDS).makeOptionMandatory())
    .option('--dir <dir>', 'folder to create (default: plugins/<name>)')
    .action(async (name: string, options: { kind: PluginKind; dir?: string }) => {
      const { createPlugin } = await import('./plugin.js');
      setExit(await createPlugin(name, options.kind, options.dir, io.out));
    });
  subcommand(plugin, 'pack', 'make a plugin package (.wgp) of a built plugin folder: manifest, module and their sha256')
    .argument('<dir>', 'plugin folder holding plugin.yaml and build/<name>.wasm')
    .option('--out <file>', 'package file to write (default: <name>-<version>.wgp here)')
    .option('--key <file>', 'sign it too, with this private key (wasmgate plugin keygen)')
    .action(async (dir: string, options: { out?: string; key?: string }) => {
      const { runPack } = await import('./plugin-package.js');
      setExit(await runPack(dir, options, io.out));
    });
  subcommand(plugin, 'keygen', 'make an ed25519 key pair for signing packages: PREFIX.key (private, mode 0600) and PREFIX.pub')
    .requiredOption('--out <prefix>', 'path and name of the two files, without their endings')
    .action(async (options: { out: string }) => {
      const { runKeygen } = await import('./plugin-package.js');
      setExit(await runKeygen(options.out, io.out));
    });
  subcommand(plugin, 'sign', 'sign a package with a private key (replacing any signature it had)')
    .argument('<file>', 'package file (.wgp)')
    .requiredOption('--key <file>', 'private key file (wasmgate plugin keygen)')
    .option('--out <file>', 'write the signed package here (default: in place)')
    .action(async (file: string, options: { key: string; out?: string }) => {
      const { runSign } = await import('./plugin-package.js');
      setExit(await runSign(file, options, io.out));
    });
  subcommand(plugin, 'verify', 'check a package as an install would (format, sha256, signature, ABI, kind, imports) without installing it')
    .argument('<file>', 'package file (.wgp)')
    .option('-c, --config <file>', "gateway file: judge the signature by its plugins.trusted_keys and require_signed")
    .option('--trusted-key <file>', 'judge the signature by this public key (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (file: string, options: { config?: string; trustedKey: string[] }, command: Command) => {
      if (options.config !== undefined && options.trustedKey.length > 0) command.error('error: give --config or --trusted-key, not both', { exitCode: EXIT_USAGE });
      const { runVerify } = await import('./plugin-package.js');
      setExit(await runVerify(file, { ...(options.config !== undefined ? { config: options.config } : {}), trustedKeys: options.trustedKey }, io.out));
    });
  const packageOptions = (c: Command): Command => c
    .option('-c, --config <file>', "gateway file: its control socket, and its data directory when no daemon answers")
    .option('--socket <path>', 'control socket path (default: as wasmgate status finds it)')
    .option('--offline', 'do not ask a daemon: work on the data directory of --config');
  packageOptions(subcommand(plugin, 'install', 'install a package: checked, stored in the registry and put live (through the running daemon, else offline)')
    .argument('<file>', 'package file (.wgp)')
    .option('--force', 'install a version this gateway rolled back for cause (crash loop); every other check still applies, and the registry records it'))
    .action(async (file: string, options: PackageCommandOptions & { force?: boolean }, command: Command) => {
      const { runInstall } = await import('./plugin-package.js');
      setExit(await runInstall(file, { ...packageChoice(command, options), force: options.force === true }, io.out, io.err));
    });
  packageOptions(subcommand(plugin, 'rollback', 'make the version active before the current one active again (or --to VERSION)')
    .argument('<name>', 'plugin name')
    .option('--to <version>', 'a kept version to go back to (default: the one active before)'))
    .action(async (name: string, options: PackageCommandOptions & { to?: string }, command: Command) => {
      const { runRollback } = await import('./plugin-package.js');
      setExit(await runRollback(name, { ...packageChoice(command, options), ...(options.to !== undefined ? { to: options.to } : {}) }, io.out, io.err));
    });
  packageOptions(subcommand(plugin, 'list', 'list the installed plugins, their kept versions, and what each pipeline step runs')
    .option('--json', 'print the listing as JSON'))
    .action(async (options: PackageCommandOptions & { json?: boolean }, command: Command) => {
      const { runList } = await import('./plugin-package.js');
      setExit(await runList({ ...packageChoice(command, options), json: options.json === true }, io.out, io.err));
    });
  const fleet = subcommand(root, 'fleet', 'roll plugin packages out to gateways through their MQTT broker (docs/fleet.md)');
  subcommand(fleet, 'rollout', 'install a package on a canary cohort, watch it, then on the rest in waves; stop and roll back at any failure')
    .argument('<package>', 'package file (.wgp)')
    .requiredOption('--broker <url>', 'the broker the gateways listen on (mqtt://, mqtts://, ws://, wss://)')
    .option('--gateways <ids>', 'gateway ids, comma-separated, in rollout order')
    .option('--gateways-file <file>', 'gateway ids, one per line (# starts a comment), in rollout order')
    .option('--canary <n>', 'gateways of the canary cohort: the first n', '1')
    .option('--waves <sizes>', 'sizes of the waves after the canary, counts or percentages of all gateways (2,10,25%); the last repeats (default: the rest at once)')
    .option('--watch <duration>', 'how long each stage is watched before the next', '30s')
    .option('--status-timeout <duration>', 'how long to wait for each gateway\'s status', '60s')
    .option('--max-traps <n>', 'traps of the new version a gateway may report at the health probe', '0')
    .option('--url <url>', 'the gateways fetch the package here (http or https) instead of getting it in the command')
    .option('--prefix <prefix>', 'the fleet topics\' first levels (the gateways\' fleet.topic_prefix)', 'wasmgate/fleet')
    .option('--username <name>', 'user name for the broker')
    .option('--password-file <file>', 'file holding the password for the broker')
    .option('--ca <file>', 'CA certificate (PEM) of the broker, for mqtts:// and wss://')
    .option('--json', 'print the whole result as JSON at the end')
    .action(async (file: string, options: RolloutCliOptions, command: Command) => {
      const { runRollout } = await import('./fleet.js');
      await commission(command, io, setExit, () => runRollout(file, options, io.out, io.err));
    });
  subcommand(plugin, 'docs', "write the built-in plugins' settings reference")
    .option('--out <file>', 'file to write', 'docs/plugin-settings.md')
    .action(async (options: { out: string }) => {
      const { writePluginDocs } = await import('./plugin.js');
      setExit(await writePluginDocs(options.out, io.out));
    });
  return root;
}

interface PackageCommandOptions {
  config?: string;
  socket?: string;
  offline?: boolean;
}

function packageChoice(command: Command, o: PackageCommandOptions): { config?: string; socket?: string; offline: boolean } {
  if (o.config !== undefined && o.socket !== undefined) command.error('error: give --config or --socket, not both', { exitCode: EXIT_USAGE });
  if (o.offline && o.config === undefined) command.error('error: --offline needs --config FILE (whose data directory to work on)', { exitCode: EXIT_USAGE });
  return { ...(o.config !== undefined ? { config: o.config } : {}), ...(o.socket !== undefined ? { socket: o.socket } : {}), offline: o.offline === true };
}

interface ReadOptions {
  unit: string;
  function: string;
  address: string;
  count: string;
  json?: boolean;
}

/** Runs a commissioning command; a refused option is a usage error (exit 2), said with its name. */
function daemonChoice(o: DaemonOptions): DaemonChoice {
  return { ...(o.socket !== undefined ? { socket: o.socket } : {}), ...(o.config !== undefined ? { config: o.config } : {}), standalone: o.standalone === true };
}

async function commission(command: Command, io: CliOutput, setExit: (code: number) => void, work: () => Promise<number>): Promise<void> {
  try {
    setExit(await work());
  } catch (err) {
    if (isWgError(err) && err.code === 'WG_ERR_CLI_USAGE') command.error(`error: ${err.message}`, { exitCode: EXIT_USAGE });
    throw err;
  }
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], io: CliOutput = consoleOutput): Promise<number> {
  let code = EXIT_OK;
  try {
    await program(io, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end parsing with exit code 0; everything else is a usage error.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    // A command that refuses its well-formed arguments (a plugin name, a folder that exists) failed.
    if (isWgError(err)) {
      io.err(`wasmgate: ${err.toString()}`);
      return EXIT_FAILED;
    }
    throw err;
  }
}
