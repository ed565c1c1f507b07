/**
 * The gateway file's `plugins:` block (docs/config.md, `plugins`): which packages an install
 * accepts (`require_signed`, `trusted_keys`) and which host functions plugins may import (`grant`).
 * Trusted keys are PEM files of ed25519 public keys (`wasmgate plugin keygen` writes them), read and
 * checked at load, so a key that is not one is a positioned problem, never a surprise at install.
 */
import { readFile } from 'node:fs/promises';
import { GRANTED_IMPORTS } from '../engine/abi.js';
import type { SchemaDocument } from '../config/schema-document.js';
import type { SettingChecks } from '../config/setting-checks.js';
import { filePath } from '../config/schema-fragments.js';
import { isWgError } from '../errors.js';
import { keyIdOf, readPublicKey } from './package-signature.js';
import type { PackageTrust, TrustedKey } from './package-trust.js';
import { resolve } from 'node:path';

export interface ResolvedPluginSettings extends PackageTrust {
  /** The host functions any plugin may import (a plugin gets those of them its manifest lists). */
  readonly grant: readonly string[];
  /** The drop-in directory the daemon installs packages from (drop-in.ts), absolute; null: none. */
  readonly dropIn: string | null;
}

export const pluginsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'plugin packages (wasmgate plugin install) and what plugins may import',
  properties: {
    require_signed: {
      type: 'boolean',
      default: true,
      description: 'refuse a package unless it is signed by one of trusted_keys',
    },
    trusted_keys: {
      type: 'array',
      default: [],
      items: filePath('PEM file of an ed25519 public key (wasmgate plugin keygen), relative to this file'),
      description: 'the keys whose signatures an install accepts',
    },
    grant: {
      type: 'array',
      uniqueItems: true,
      items: { enum: GRANTED_IMPORTS },
      default: [...GRANTED_IMPORTS],
      description: 'the host functions (namespace wasmgate) plugins may import; a step whose manifest lists another is refused',
    },
    drop_in: {
      anyOf: [filePath('directory the running daemon installs packages (*.wgp) from, relative to this file'), { type: 'null' }],
      default: null,
      description: 'a directory watched by the running daemon: a package copied into it is installed as wasmgate plugin install does, then moved to installed/ or refused/ with a file saying why',
    },
  },
} as const;

/** The block as its schema accepted it, defaults filled in. */
export type PluginsDocument = SchemaDocument<typeof pluginsSchema>;

export async function checkPluginSettings(doc: PluginsDocument, checks: SettingChecks): Promise<void> {
  await Promise.all(doc.trusted_keys.map(async (written, i) => {
    const at = ['plugins', 'trusted_keys', i];
    await checks.readableFile(at, written, 'trusted key');
    if (!checks.clean(at)) return;
    const file = checks.absolute(written);
    try {
      readPublicKey(await readFile(file), file);
    } catch (err) {
      if (!isWgError(err, 'WG_ERR_PACKAGE_KEY')) throw err;
      checks.invalid(at, (err as Error).message);
    }
  }));
}

/** Only called on a checked document; `base` is the gateway file's directory. */
export async function resolvePluginSettings(doc: PluginsDocument, base: string): Promise<ResolvedPluginSettings> {
  const trustedKeys: TrustedKey[] = await Promise.all(doc.trusted_keys.map(async (written) => {
    const file = resolve(base, written);
    const pem = await readFile(file, 'utf8');
    return { file, pem, keyId: keyIdOf(readPublicKey(pem, file)) };
  }));
  return { requireSigned: doc.require_signed, trustedKeys, grant: [...doc.grant], dropIn: doc.drop_in === null ? null : resolve(base, doc.drop_in) };
}
