/**
 * Compiles an AssemblyScript plugin folder into its .wasm: `plugins/<name>/<name>.ts` ->
 * `plugins/<name>/build/<name>.wasm`, with the SDK's abort handler wired in (the ABI grants no
 * env.abort), the stub runtime (plugins allocate at configure time, not per batch) and the SDK's
 * `utf8("...")` texts made static UTF-8 (utf8-literals.ts). A plugin folder may also hold tool modules,
 * `tools/<tool>.ts` -> `build/<tool>.wasm`: code of the plugin's protocol that the gateway never loads
 * into a pipeline but a command does (the bacnet plugin's scan codec), built the same way and kept
 * out of the plugin's own module and its size budget.
 */
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, parse, relative, resolve } from 'node:path';
import { WgError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { utf8LiteralsTransform } from './utf8-literals.js';

/** The package's plugins/ folder (next to dist/ at run time). */
export const BUILTIN_PLUGIN_DIR = join(packageRoot(), 'plugins');
export const SDK_DIR = join(BUILTIN_PLUGIN_DIR, 'sdk');
/** The SDK by package name, for plugins outside this package: `import { ... } from "wasmgate/plugins/sdk"`. */
export const SDK_PACKAGE_PATH = 'wasmgate/plugins/sdk';
/**
 * The plugins wasmgate ships. A plugin an author creates under plugins/ (as docs/plugins.md does in a
 * checkout) is built by `--all` and tested by `npm test`, but it is not one of these: it does not
 * enter docs/plugin-settings.md. A test keeps the list equal to the plugin folders in git.
 */
export const BUILTIN_PLUGINS: readonly string[] = ['anomaly', 'bacnet', 'deadband', 'json', 'modbus', 'outlier', 'payload', 'resample', 'scale', 'si'];

/** The part of the asc API used here. Its own typings redeclare globals (console), so they stay out. */
interface AscApi {
  main(argv: string[], options: { stdout: unknown; stderr: unknown; transforms: unknown[] }): Promise<{ error: Error | null }>;
}
const ASC_MODULE: string = 'assemblyscript/asc';

export interface BuiltPlugin {
  name: string;
  wasm: string;
  bytes: number;
  /** The folder's tool modules (tools/<tool>.ts), built beside the plugin. */
  tools: { name: string; wasm: string; bytes: number }[];
}

/** The built tool module `tool` of the plugin folder `pluginDir` (tools/<tool>.ts). */
export function toolWasmPathOf(pluginDir: string, tool: string): string {
  return join(pluginDir, 'build', `${tool}.wasm`);
}

export function wasmPathOf(pluginDir: string): string {
  const name = basename(pluginDir);
  return join(pluginDir, 'build', `${name}.wasm`);
}

export async function buildPlugin(pluginDir: string): Promise<BuiltPlugin> {
  const dir = resolve(pluginDir);
  const name = basename(dir);
  const out = wasmPathOf(dir);
  await compileEntry(dir, name, join(dir, `${name}.ts`), out);
  const toolDir = join(dir, 'tools');
  const toolFiles = await readdir(toolDir).then((files) => files.filter((f) => f.endsWith('.ts')).sort(), () => []);
  const tools = [];
  for (const file of toolFiles) {
    const tool = basename(file, '.ts');
    const wasm = toolWasmPathOf(dir, tool);
    await compileEntry(dir, name, join(toolDir, file), wasm);
    tools.push({ name: tool, wasm, bytes: (await stat(wasm)).size });
  }
  return { name, wasm: out, bytes: (await stat(out)).size, tools };
}

/** Compiles the AssemblyScript `entry` of plugin folder `dir` (plugin `name`) into `out`. */
async function compileEntry(dir: string, name: string, entry: string, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  // asc names each file by its path relative to its base directory, and `--use abort=` must name the
  // SDK's abort by that path. With the filesystem root as base, every name is the absolute path, the
  // same whether the plugin folder is inside this package or anywhere else.
  const root = parse(dir).root;
  const internal = (file: string) => relative(root, file).split('\\').join('/');
  const diagnostics: string[] = [];
  const sink = { write: (s: string | Uint8Array) => { diagnostics.push(String(s)); return true; } };
  // asc looks for packages only in the node_modules folders it is given; a plugin that imports the SDK
  // by package name gets the SDK's files named ~lib/wasmgate/..., and the abort alias must use that name.
  const byName = await importsSdkByName(dir);
  const abort = byName ? `~lib/${SDK_PACKAGE_PATH}/abort` : internal(join(SDK_DIR, 'abort'));
  const paths = nodeModulesAbove(dir).flatMap((p) => ['--path', internal(p)]);
  const asc = ((await import(ASC_MODULE)) as { default: AscApi }).default;
  const { error } = await asc.main(
    ['--baseDir', root, internal(entry), '-o', internal(out), '--runtime', 'stub', '-O3s', '--noAssert', '--use', `abort=${abort}/wg_abort`, ...paths],
    { stdout: sink, stderr: sink, transforms: [await utf8LiteralsTransform()] },
  );
  if (error) {
    throw new WgError('WG_ERR_PLUGIN_BUILD', { plugin: name, file: entry, detail: `${error.message}\n${diagnostics.join('')}` });
  }
}

/** The node_modules folders Node would search from `dir`, nearest first. */
function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    if (basename(at) !== 'node_modules') found.push(join(at, 'node_modules'));
    if (dirname(at) === at) return found;
  }
}

/** Whether a source file of the plugin folder imports the SDK by package name. */
async function importsSdkByName(dir: string): Promise<boolean> {
  const pattern = new RegExp(`from\\s+["']${SDK_PACKAGE_PATH}["/]`);
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
    if (pattern.test(await readFile(join(dir, file), 'utf8'))) return true;
  }
  return false;
}

/** Every plugin folder under `root` (a folder with plugin.yaml), the SDK excluded. */
export async function listPluginDirs(root: string = BUILTIN_PLUGIN_DIR): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const dirs: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'sdk') continue;
    const manifest = join(root, e.name, 'plugin.yaml');
    if (await stat(manifest).then(() => true, () => false)) dirs.push(join(root, e.name));
  }
  return dirs.sort();
}
