/**
 * Whether a package may be trusted (docs/plugins.md, "Trust"): its signature checked against the
 * gateway's trusted keys (`plugins.trusted_keys`) under `plugins.require_signed`. A signature that
 * does not verify is refused whatever the settings: it says the package was changed after signing.
 * Without `require_signed`, an unsigned package, or one signed by a key the gateway does not know,
 * is accepted and said to be so.
 */
import type { KeyObject } from 'node:crypto';
import { WgError } from '../errors.js';
import type { PluginPackage } from './plugin-package.js';
import { readPublicKey, verifyStatement } from './package-signature.js';

export interface TrustedKey {
  /** Absolute path of the PEM file. */
  readonly file: string;
  readonly keyId: string;
  readonly pem: string;
}

export interface PackageTrust {
  readonly requireSigned: boolean;
  readonly trustedKeys: readonly TrustedKey[];
}

export interface TrustVerdict {
  /** Key id of the signature, or null for an unsigned package. */
  readonly signedBy: string | null;
  /** Signed by a trusted key, and the signature verifies. */
  readonly trusted: boolean;
  /** The trusted key's file, when trusted. */
  readonly keyFile: string | null;
}

/** What a signature is judged on: a package read now, or a stored version's files (a rollback's target). */
export type TrustSubject = Pick<PluginPackage, 'file' | 'signature' | 'statement'> & { readonly manifest: Pick<PluginPackage['manifest'], 'name'> };

export function checkTrust(pkg: TrustSubject, trust: PackageTrust): TrustVerdict {
  const { file } = pkg;
  const plugin = pkg.manifest.name;
  const signature = pkg.signature;
  if (signature === null) {
    if (trust.requireSigned) throw new WgError('WG_ERR_PACKAGE_UNSIGNED', { file, plugin, detail: 'the package has no signature and plugins.require_signed is true: sign it (wasmgate plugin sign) with a key the gateway trusts' });
    return { signedBy: null, trusted: false, keyFile: null };
  }
  const known = trust.trustedKeys.find((k) => k.keyId === signature.keyId);
  if (known === undefined) {
    if (trust.requireSigned) {
      const ids = trust.trustedKeys.map((k) => k.keyId);
      throw new WgError('WG_ERR_PACKAGE_UNTRUSTED_KEY', { file, plugin, keyId: signature.keyId, detail: `the gateway trusts ${ids.length > 0 ? `keys ${ids.join(', ')}` : 'no keys (plugins.trusted_keys is empty)'}` });
    }
    return { signedBy: signature.keyId, trusted: false, keyFile: null };
  }
  const key: KeyObject = readPublicKey(known.pem, known.file);
  if (!verifyStatement(pkg.statement, signature, key)) {
    throw new WgError('WG_ERR_PACKAGE_TAMPERED', { file, plugin, detail: `the signature by key ${signature.keyId} does not verify: the manifest or the module was changed after signing` });
  }
  return { signedBy: signature.keyId, trusted: true, keyFile: known.file };
}
