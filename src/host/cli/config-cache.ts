/**
 * The start cache: the resolved, checked configuration of the last start, with every input its load
 * looked at (config-inputs.ts). A start whose inputs are all as recorded, by the same build of
 * wasmgate on the same Node, takes the configuration from here: the config thread asks this first
 * (config-thread-main.ts) and answers with it, without loading the YAML parser and the schema
 * validator, reading and checking the files or dry-configuring the plugins (about 300 ms of a 570 ms
 * start, bench/gateway.bench.ts). Anything else (a changed or unreadable input, another
 * version, a cache that is missing, truncated, corrupt or for another gateway file) is a miss, and
 * the start takes the full path as if there were no cache. Only a valid configuration is kept:
 * problems are always found and reported by the checks themselves. `wasmgate validate` and reloads
 * never use it.
 *
 * Where: `<data_dir>/config-cache-<digest of the gateway file's path>.bin`, with data_dir as its
 * default gives it before any file is read ($STATE_DIRECTORY under the unit, else ./data next to the
 * gateway file); a gateway file that names another data_dir gets no cache unless
 * WASMGATE_CONFIG_CACHE names a directory. WASMGATE_CONFIG_CACHE=off turns it off. A cache that cannot
 * be written (read-only or full disk) is said in the log; the start goes on without one.
 *
 * The file: 4 bytes "WGC1", the SHA-256 of the body (32 bytes), the body (v8.serialize, the format a
 * worker's answer comes in, so the configuration comes back as the config thread would give it).
 * Passwords are not in it: each is read again from its password file or variable at a hit
 * (SecretRef); a configuration with a password written in the gateway file is not cached.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../config/defaults.js';
import { digest, firstChanged, type ConfigInput } from '../config/config-inputs.js';
import type { LoadResult } from '../config/load.js';
import type { ResolvedGateway } from '../config/resolved.js';
import { packageVersion } from './package-version.js';

const MAGIC = Buffer.from('WGC1');
const HEADER_BYTES = MAGIC.length + 32;
/** Environment variable: `off` (or `0`, `false`) turns the cache off; a path puts it in that directory. */
export const CACHE_ENV = 'WASMGATE_CONFIG_CACHE';

export interface CacheLocation {
  /** The cache file. */
  file: string;
  /** The directory the configuration's data_dir must be for the cache to be written (undefined: any, WASMGATE_CONFIG_CACHE named it). */
  dataDir?: string;
}

export type CacheLookup =
  | { used: true; location: CacheLocation; result: LoadResult & { ok: true } }
  | { used: false; reason: string; location?: CacheLocation };

interface CacheBody {
  code: string;
  gateway: string;
  inputs: ConfigInput[];
  /** The result with every password taken out (`secrets` says where each goes back from). */
  result: LoadResult;
  secrets: SecretRef[];
}

/**
 * A password of the configuration, kept out of the cache file: where it sits in the configuration, and
 * the input it came from (a password file, an environment variable), read again at a hit. The inputs
 * are checked unchanged first, so what is read again is what the load read.
 */
interface SecretRef {
  at: Array<string | number>;
  from: { file: string } | { env: string };
  digest: string;
}

/** A copy of `config` without its passwords and where each came from; or why it cannot be cached. */
function withoutSecrets(config: ResolvedGateway, inputs: readonly ConfigInput[]): { config: ResolvedGateway; secrets: SecretRef[] } | { refused: string } {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  const secrets: SecretRef[] = [];
  let refused: string | undefined;
  const visit = (node: unknown, at: Array<string | number>): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const here = [...at, Array.isArray(node) ? Number(key) : key];
      if (key === 'password' && typeof value === 'string') {
        // password_file's content, one trailing newline removed (mqtt-uplink.ts), or password_env's value.
        const file = inputs.find((i) => i.op === 'read' && [value, `${value}\n`, `${value}\r\n`].some((v) => i.outcome === digest(v)));
        const env = inputs.find((i) => i.op === 'env' && i.outcome === `set:${digest(value)}`);
        if (file) secrets.push({ at: here, from: { file: file.target }, digest: digest(value) });
        else if (env) secrets.push({ at: here, from: { env: env.target }, digest: digest(value) });
        else refused ??= `${here.join('.')} is written in a file: a start cache would copy the password to disk (use password_file or password_env)`;
        (node as Record<string, unknown>)[key] = '';
      } else visit(value, here);
    }
  };
  visit(copy, []);
  return refused !== undefined ? { refused } : { config: copy as unknown as ResolvedGateway, secrets };
}

/** Puts the passwords back into `config` (a fresh, unfrozen copy); false when one is not what was read at the load. */
function restoreSecrets(config: unknown, secrets: readonly SecretRef[], env: NodeJS.ProcessEnv): boolean {
  for (const secret of secrets) {
    let value: string | undefined;
    try {
      value = 'file' in secret.from ? readFileSync(secret.from.file, 'utf8').replace(/\r?\n$/, '') : env[secret.from.env];
    } catch {
      return false;
    }
    if (value === undefined || digest(value) !== secret.digest) return false;
    let holder = config as Record<string | number, unknown>;
    for (const key of secret.at.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    holder[secret.at[secret.at.length - 1]!] = value;
  }
  return true;
}

/** Where the cache of `gatewayFile` is, or undefined when it is turned off. */
export function cacheLocation(gatewayFile: string, env: NodeJS.ProcessEnv = process.env): CacheLocation | undefined {
  const setting = env[CACHE_ENV];
  if (setting !== undefined && /^(off|0|false|no)$/i.test(setting.trim())) return undefined;
  const gateway = resolve(gatewayFile);
  const name = `config-cache-${digest(gateway).slice(0, 16)}.bin`;
  if (setting !== undefined && setting.trim() !== '') return { file: join(resolve(setting), name) };
  const dataDir = defaultDataDir(dirname(gateway), env).path;
  return { file: join(dataDir, name), dataDir };
}

let identity: string | undefined;

/**
 * This build of wasmgate on this Node: its version, Node's version and architecture, and the size and
 * time of every module file of the running host (dist/src, or the bundle's directory) and of the
 * installed dependencies' lock, so that a rebuild or an upgrade is a miss even when the version
 * number stayed.
 */
export function codeIdentity(): string {
  if (identity !== undefined) return identity;
  // tsc's output runs this from dist/src/host/cli/ (the code is dist/src); a bundle runs it from a
  // chunk in its own directory (the code is that directory). Both are two levels below the package.
  const here = dirname(fileURLToPath(import.meta.url));
  const root = /[\\/]host[\\/]cli$/.test(here) ? resolve(here, '..', '..') : here;
  const parts: string[] = [packageVersion(), process.version, process.arch];
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.(c?js|json)$/.test(f)).sort();
  for (const f of files) {
    const s = statSync(join(root, f));
    parts.push(`${f}:${s.size}:${s.mtimeMs}`);
  }
  const lock = resolve(root, '..', '..', 'node_modules', '.package-lock.json');
  try {
    const s = statSync(lock);
    parts.push(`${relative(root, lock)}:${s.size}:${s.mtimeMs}`);
  } catch {
    parts.push('no lock');
  }
  identity = digest(parts.join('\n'));
  return identity;
}

function isBody(value: unknown): value is CacheBody {
  const v = value as Partial<CacheBody> | null;
  return v !== null && typeof v === 'object' && typeof v.code === 'string' && typeof v.gateway === 'string' && Array.isArray(v.inputs) && Array.isArray(v.secrets) && typeof v.result === 'object' && v.result !== null && v.result.ok === true;
}

/** The cached configuration of `gatewayFile` (not frozen) when every input is as it was recorded; else why not. */
export async function readConfigCache(gatewayFile: string, env: NodeJS.ProcessEnv = process.env): Promise<CacheLookup> {
  const location = cacheLocation(gatewayFile, env);
  if (location === undefined) return { used: false, reason: `turned off (${CACHE_ENV})` };
  let bytes: Buffer;
  try {
    bytes = await readFile(location.file);
  } catch (err) {
    return { used: false, location, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no cache yet' : `unreadable: ${(err as Error).message}` };
  }
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { used: false, location, reason: 'not a cache file of this format' };
  const body = bytes.subarray(HEADER_BYTES);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(MAGIC.length, HEADER_BYTES))) return { used: false, location, reason: 'corrupt: its digest does not match' };
  let cached: unknown;
  try {
    cached = deserialize(body);
  } catch (err) {
    return { used: false, location, reason: `corrupt: ${(err as Error).message}` };
  }
  if (!isBody(cached)) return { used: false, location, reason: 'corrupt: not a cached configuration' };
  if (cached.gateway !== resolve(gatewayFile)) return { used: false, location, reason: `written for another gateway file (${cached.gateway})` };
  if (cached.code !== codeIdentity()) return { used: false, location, reason: 'written by another build of wasmgate or Node' };
  const changed = firstChanged(cached.inputs, env);
  if (changed) return { used: false, location, reason: `${changed.op === 'env' ? `environment variable ${changed.target}` : changed.op === 'env*' ? 'the environment' : changed.target} changed` };
  const result = cached.result as LoadResult & { ok: true };
  if (!restoreSecrets(result.config, cached.secrets, env)) return { used: false, location, reason: 'a password file or variable changed' };
  // Not frozen here: it is asked in the config thread, and what crosses to the daemon is frozen there (config-thread.ts).
  return { used: true, location, result };
}

/**
 * Writes the cache for a valid configuration loaded with `inputs`. Never throws: a directory that
 * cannot be written means no cache, said in the outcome.
 */
export async function writeConfigCache(
  location: CacheLocation,
  gatewayFile: string,
  result: LoadResult & { ok: true },
  inputs: ConfigInput[],
): Promise<{ written: true; file: string } | { written: false; reason: string }> {
  const config: ResolvedGateway = result.config;
  if (location.dataDir !== undefined && resolve(config.dataDir) !== location.dataDir) {
    return { written: false, reason: `data_dir is ${config.dataDir}, not the default ${location.dataDir} a start looks in before reading the files (set ${CACHE_ENV} to a directory)` };
  }
  const temporary = `${location.file}.${process.pid}.tmp`;
  try {
    const stripped = withoutSecrets(config, inputs);
    if ('refused' in stripped) return { written: false, reason: stripped.refused };
    const body = serialize({ code: codeIdentity(), gateway: resolve(gatewayFile), inputs, result: { ...result, config: stripped.config }, secrets: stripped.secrets } satisfies CacheBody);
    const bytes = Buffer.concat([MAGIC, createHash('sha256').update(body).digest(), body]);
    await mkdir(dirname(location.file), { recursive: true, mode: 0o700 });
    await writeFile(temporary, bytes, { mode: 0o600, flag: 'w' });
    // Whole or not at all: a start that reads it while it is written sees the old file or the new one.
    await rename(temporary, location.file);
    return { written: true, file: location.file };
  } catch (err) {
    await rm(temporary, { force: true }).catch(() => undefined);
    return { written: false, reason: (err as Error).message };
  }
}
