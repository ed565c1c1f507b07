/**
 * The signature of a plugin package: ed25519 (node:crypto) over a short text, the statement, that
 * names the sha256 of the manifest and of the module. Signing the statement rather than the archive
 * means the signature survives being put into the archive, and the statement can be rebuilt and
 * checked from a shell with openssl (docs/plugins.md, "Checking by hand").
 *
 *   wasmgate-package 1
 *   manifest sha256:<hex>
 *   module sha256:<hex>
 *
 * The signature member is text too: `wasmgate-signature 1`, `key <key id>`, `ed25519 <base64>`.
 * A key id is the first 16 hex digits of the sha256 of the raw 32-byte public key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { WgError } from '../errors.js';

export interface PackageSignature {
  readonly keyId: string;
  readonly signature: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What is signed: the statement of the manifest's and the module's sha256. */
export function statementOf(manifest: Uint8Array, module: Uint8Array): Uint8Array {
  return Buffer.from(`wasmgate-package 1\nmanifest sha256:${sha256Hex(manifest)}\nmodule sha256:${sha256Hex(module)}\n`, 'utf8');
}

export function keyIdOf(key: KeyObject): string {
  const raw = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
  return sha256Hex(raw).slice(0, 16);
}

/** A new key pair as PEM: the private key PKCS#8, the public key SPKI. */
export function generateSigningKey(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyId: keyIdOf(publicKey),
  };
}

/** A PEM public key, refused unless it is ed25519 (`file` names it in the error). */
export function readPublicKey(pem: string | Uint8Array, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch (err) {
    throw new WgError('WG_ERR_PACKAGE_KEY', { file, detail: `not a PEM public key: ${(err as Error).message}` }, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new WgError('WG_ERR_PACKAGE_KEY', { file, detail: `a ${key.asymmetricKeyType} key; packages are signed with ed25519 (wasmgate plugin keygen)` });
  return key;
}

export function readPrivateKey(pem: string | Uint8Array, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch (err) {
    throw new WgError('WG_ERR_PACKAGE_KEY', { file, detail: `not a PEM private key: ${(err as Error).message}` }, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new WgError('WG_ERR_PACKAGE_KEY', { file, detail: `a ${key.asymmetricKeyType} key; packages are signed with ed25519 (wasmgate plugin keygen)` });
  return key;
}

export function signStatement(statement: Uint8Array, privateKey: KeyObject): PackageSignature {
  return { keyId: keyIdOf(createPublicKey(privateKey)), signature: sign(null, statement, privateKey) };
}

export function verifyStatement(statement: Uint8Array, signature: PackageSignature, publicKey: KeyObject): boolean {
  return verify(null, statement, publicKey, signature.signature);
}

export function encodeSignature(signature: PackageSignature): Uint8Array {
  return Buffer.from(`wasmgate-signature 1\nkey ${signature.keyId}\ned25519 ${Buffer.from(signature.signature).toString('base64')}\n`, 'utf8');
}

/** The signature member read back; `file` names the package in WG_ERR_PACKAGE_FORMAT. */
export function decodeSignature(bytes: Uint8Array, file: string): PackageSignature {
  const m = /^wasmgate-signature 1\nkey ([0-9a-f]{16})\ned25519 ([A-Za-z0-9+/]{86}==)\n$/.exec(Buffer.from(bytes).toString('utf8'));
  if (!m) throw new WgError('WG_ERR_PACKAGE_FORMAT', { file, detail: 'the signature member is not "wasmgate-signature 1", "key <16 hex digits>", "ed25519 <base64 of 64 bytes>"' });
  return { keyId: m[1]!, signature: Buffer.from(m[2]!, 'base64') };
}
