/**
 * `wasmgate plugin pack | keygen | sign | verify | install | rollback | list` (docs/cli.md): the work
 * of each, once main.ts has parsed the arguments. install, rollback and list ask the running daemon
 * over its control socket when one answers (it reloads what changed); when none does they work on
 * the data directory of the gateway file given, offline, with the checks `wasmgate validate` makes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatProblem, loadGatewayConfig } from '../config/index.js';
import type { ResolvedGateway } from '../config/resolved.js';
import { controlRequest } from '../control/control-client.js';
import { MAX_REQUEST_LINE_BYTES } from '../control/control-protocol.js';
import { CodedError } from '../../errors.js';
import { isWgError, WgError } from '../errors.js';
import { writeFileDurably } from '../packages/durable-file.js';
import { installPackage, rollbackPlugin, type InstallContext, type InstallOutcome, type RollbackOutcome } from '../packages/package-install.js';
import { generateSigningKey, keyIdOf, readPrivateKey, readPublicKey, sha256Hex, signStatement } from '../packages/package-signature.js';
import type { ResolvedPluginSettings } from '../packages/package-settings.js';
import { verifyPackage } from '../packages/package-verify.js';
import { encodePackage, packageFileName, packPluginFolder, parsePackage, readPackageFile } from '../packages/plugin-package.js';
import { listingText, listPlugins, type PluginListing } from '../packages/plugin-listing.js';
import { PluginRegistry } from '../packages/plugin-registry.js';
import { pipelinesRunning } from '../packages/registry-usage.js';
import { GRANTED_IMPORTS } from '../engine/abi.js';
import { socketCandidates, type SocketOptions } from './daemon-socket.js';
import { loadAndConfigure } from './validate.js';

type Out = (line: string) => void;

/** Largest package sent inside the request: its base64 and the rest of the request fit MAX_REQUEST_LINE_BYTES. */
const MAX_INLINE_PACKAGE_BYTES = Math.floor((MAX_REQUEST_LINE_BYTES - 4096) / 4) * 3;

/** Reading and configuring every plugin again, then restarting pipelines, can take a while on a small box. */
const INSTALL_TIMEOUT_MS = 120_000;

export async function runPack(dir: string, options: { out?: string; key?: string }, out: Out): Promise<number> {
  const packed = await packPluginFolder(resolve(dir));
  let bytes = packed.bytes;
  const file = resolve(options.out ?? packageFileName(packed.manifest));
  let signedBy = '';
  if (options.key !== undefined) {
    const signed = await signPackageBytes(bytes, file, options.key);
    bytes = signed.bytes;
    signedBy = `, signed by key ${signed.keyId}`;
  }
  await writeFileDurably(file, bytes);
  out(`packed ${packed.manifest.name} ${packed.manifest.version} (${packed.manifest.kind}, ${packed.module.length} bytes of module, sha256 ${sha256Hex(packed.module)})${signedBy}: ${file}`);
  return 0;
}

export async function runKeygen(prefix: string, out: Out): Promise<number> {
  const key = generateSigningKey();
  const privateFile = resolve(`${prefix}.key`);
  const publicFile = resolve(`${prefix}.pub`);
  try {
    // Never over an existing key: losing a signing key is worse than a failed command.
    await writeFile(privateFile, key.privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(publicFile, key.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    throw new WgError('WG_ERR_PACKAGE_KEY', { file: (err as { path?: string }).path ?? privateFile, detail: (err as Error).message }, { cause: err });
  }
  out(`key ${key.keyId}: private ${privateFile} (keep it off the gateways), public ${publicFile} (list it in plugins.trusted_keys)`);
  return 0;
}

export async function runSign(file: string, options: { key: string; out?: string }, out: Out): Promise<number> {
  const target = resolve(options.out ?? file);
  const bytes = await readFile(resolve(file)).catch((err: Error) => {
    throw new WgError('WG_ERR_PACKAGE_READ', { file, detail: err.message }, { cause: err });
  });
  const signed = await signPackageBytes(bytes, file, options.key);
  await writeFileDurably(target, signed.bytes);
  out(`signed ${signed.plugin} ${signed.version} with key ${signed.keyId}: ${target}`);
  return 0;
}

async function signPackageBytes(bytes: Uint8Array, file: string, keyFile: string): Promise<{ bytes: Uint8Array; keyId: string; plugin: string; version: string }> {
  const pkg = parsePackage(bytes, file);
  const pem = await readFile(resolve(keyFile)).catch((err: Error) => {
    throw new WgError('WG_ERR_PACKAGE_KEY', { file: keyFile, detail: err.message }, { cause: err });
  });
  const signature = signStatement(pkg.statement, readPrivateKey(pem, keyFile));
  return { bytes: encodePackage({ manifestBytes: pkg.manifestBytes, module: pkg.module, signature }), keyId: signature.keyId, plugin: pkg.manifest.name, version: pkg.manifest.version };
}

/**
 * Checks a package as an install would, without installing it. The trust settings are the gateway
 * file's (--config) or the keys given (--trusted-key, with require_signed); with neither, the
 * signature's key is named but not judged.
 */
export async function runVerify(file: string, options: { config?: string; trustedKeys: string[] }, out: Out): Promise<number> {
  const pkg = await readPackageFile(resolve(file));
  let settings: ResolvedPluginSettings;
  let judged = true;
  if (options.config !== undefined) {
    settings = (await loadedConfig(options.config)).plugins;
  } else if (options.trustedKeys.length > 0) {
    const trustedKeys = await Promise.all(options.trustedKeys.map(async (k) => {
      const keyFile = resolve(k);
      const pem = await readFile(keyFile, 'utf8').catch((err: Error) => {
        throw new WgError('WG_ERR_PACKAGE_KEY', { file: keyFile, detail: err.message }, { cause: err });
      });
      return { file: keyFile, pem, keyId: keyIdOf(readPublicKey(pem, keyFile)) };
    }));
    settings = { requireSigned: true, trustedKeys, grant: [...GRANTED_IMPORTS], dropIn: null };
  } else {
    settings = { requireSigned: false, trustedKeys: [], grant: [...GRANTED_IMPORTS], dropIn: null };
    judged = false;
  }
  const v = verifyPackage(pkg, settings);
  out(`${v.plugin} ${v.version}: ${v.kind}, abi ${v.abi}, ${v.bytes} bytes, sha256 ${v.sha256}, imports [${v.imports.join(', ')}]`);
  if (v.signedBy === null) out('signature: none');
  else if (!judged) out(`signature: key ${v.signedBy} (not judged: give --config or --trusted-key)`);
  else out(v.trusted ? `signature: valid, key ${v.signedBy} (${v.keyFile})` : `signature: key ${v.signedBy}, not trusted (accepted: require_signed is false)`);
  out('ok: an install would accept it');
  return 0;
}

export interface DaemonOrOffline extends SocketOptions {
  /** Never ask a daemon: work on the data directory. */
  offline?: boolean;
  json?: boolean;
}

export async function runInstall(file: string, options: DaemonOrOffline & { force?: boolean }, out: Out, err: Out): Promise<number> {
  const path = resolve(file);
  const bytes = await readFile(path).catch((e: Error) => {
    throw new WgError('WG_ERR_PACKAGE_READ', { file: path, detail: e.message }, { cause: e });
  });
  // Sent along when it fits a request line: the daemon's sandbox (PrivateTmp, ProtectHome) may not see the file.
  const inline = bytes.length <= MAX_INLINE_PACKAGE_BYTES ? { package: Buffer.from(bytes).toString('base64') } : {};
  const force = options.force ? { force: true } : {};
  const outcome = await throughDaemonOrOffline<InstallOutcome>(options, 'plugin.install', { file: path, sha256: sha256Hex(bytes), ...inline, ...force }, err, (context) => installPackage({ file: path }, context, undefined, force));
  if (outcome === undefined) return 1;
  if (outcome.status === 'already-active') {
    out(`${outcome.plugin} ${outcome.version} is the active version already: nothing changed`);
    return 0;
  }
  const signed = outcome.signedBy === null ? 'unsigned' : `signed by key ${outcome.signedBy}${outcome.trusted ? '' : ' (not trusted)'}`;
  out(`installed ${outcome.plugin} ${outcome.version} (${signed}); before: ${outcome.previous ?? 'none in the registry'}`);
  if (outcome.forcedOver) out(`forced: this gateway had rolled ${outcome.version} back (${outcome.forcedOver.at}, pipeline ${outcome.forcedOver.pipeline}: ${outcome.forcedOver.reason}); the registry records it`);
  out(`pipelines running it: ${outcome.pipelines.length > 0 ? outcome.pipelines.join(', ') : '-'}`);
  return 0;
}

export async function runRollback(plugin: string, options: DaemonOrOffline & { to?: string }, out: Out, err: Out): Promise<number> {
  const params = { plugin, ...(options.to !== undefined ? { to: options.to } : {}) };
  const outcome = await throughDaemonOrOffline<RollbackOutcome>(options, 'plugin.rollback', params, err, (context) => rollbackPlugin(plugin, options.to, context));
  if (outcome === undefined) return 1;
  out(`rolled ${outcome.plugin} back from ${outcome.from} to ${outcome.to ?? 'the version in plugin_dirs (no earlier one was kept)'}`);
  out(`pipelines running it: ${outcome.pipelines.length > 0 ? outcome.pipelines.join(', ') : '-'}`);
  return 0;
}

export async function runList(options: DaemonOrOffline, out: Out, err: Out): Promise<number> {
  const listing = await throughDaemonOrOffline<PluginListing>(options, 'plugin.list', {}, err, undefined, async (config) => listPlugins(config, new PluginRegistry(config.dataDir)));
  if (listing === undefined) return 1;
  if (options.json) out(JSON.stringify(listing, null, 2));
  else for (const line of listingText(listing)) out(line);
  return 0;
}

/**
 * Asks the daemon; when none answers (or --offline), does `offline` on the data directory of the
 * gateway file (--config). Errors are said on `err` (the problems of a refused reload each on a line).
 */
async function throughDaemonOrOffline<T>(
  options: DaemonOrOffline,
  op: string,
  params: Record<string, unknown>,
  err: Out,
  change: ((context: InstallContext) => Promise<T>) | undefined,
  read?: (config: ResolvedGateway) => Promise<T>,
): Promise<T | undefined> {
  const command = `wasmgate plugin ${op.replace('plugin.', '')}`;
  const say = (e: unknown): undefined => {
    if (!(e instanceof CodedError)) throw e;
    const problems = (e.context as { problems?: unknown }).problems;
    if (Array.isArray(problems)) for (const p of problems) err(String(p));
    err(`${command}: ${e.toString()}`);
    return undefined;
  };
  let tried: string[] = [];
  if (!options.offline) {
    const found = await socketCandidates(options);
    if (found.ok) {
      for (const socket of found.sockets) {
        try {
          const { result } = await controlRequest<T>(socket, op, params, INSTALL_TIMEOUT_MS);
          err(`${command}: done by the running daemon (${socket})`);
          return result;
        } catch (e) {
          if (isWgError(e, 'WG_ERR_CONTROL_UNREACHABLE')) continue;
          return say(e);
        }
      }
      tried = found.sockets;
      if (options.socket !== undefined) return say(new WgError('WG_ERR_CONTROL_UNREACHABLE', { socket: options.socket, detail: 'the socket named by --socket' }));
    }
  }
  if (options.config === undefined) {
    err(`${command}: no daemon answers${tried.length > 0 ? ` on ${tried.join(', ')}` : ''}; give --config FILE to work on its data directory offline`);
    return undefined;
  }
  try {
    const config = await loadedConfig(options.config);
    const registry = new PluginRegistry(config.dataDir, {
      lock: {
        onWait: (holder, file) => err(`${command}: the registry is locked by process ${holder.pid} on ${holder.host} (${holder.what}, since ${holder.since}): waiting for it (${file})`),
        onStale: (holder, file) => err(`${command}: took over a stale registry lock ${file}${holder ? ` (process ${holder.pid}, ${holder.what}, no longer runs)` : ''}`),
      },
    });
    err(`${command}: no daemon answers${tried.length > 0 ? ` on ${tried.join(', ')}` : ''}; working offline on ${registry.dir}`);
    if (read) return await read(config);
    return await change!({
      registry,
      settings: config.plugins,
      goLive: async (name) => {
        const loaded = await loadAndConfigure(config.file);
        if (!loaded.ok) {
          const problems = loaded.problems.map((p) => formatProblem(p));
          throw new WgError('WG_ERR_CONFIG_INVALID', { file: config.file, detail: `the configuration would have ${problems.length} problem(s) with it`, problems });
        }
        return pipelinesRunning(loaded.config, registry, name);
      },
    });
  } catch (e) {
    return say(e);
  }
}

async function loadedConfig(file: string): Promise<ResolvedGateway> {
  const loaded = await loadGatewayConfig(file);
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => formatProblem(p));
    throw new WgError('WG_ERR_CONFIG_INVALID', { file, detail: `${problems.length} problem(s) in the configuration`, problems });
  }
  return loaded.config;
}
