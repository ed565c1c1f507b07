/**
 * Package signatures against OpenSSL, an independent ed25519 implementation: OpenSSL verifies what we
 * sign over a statement rebuilt from sha256 digests it computes itself, and we verify what OpenSSL
 * signs with a key it generated. Key ids are checked by hand: sha256 of the raw 32-byte key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSignature, encodeSignature, generateSigningKey, keyIdOf, readPrivateKey, readPublicKey, signStatement, statementOf, verifyStatement,
} from '../../src/host/packages/package-signature.js';
import { findTool, needs } from '../support/tools.js';

const openssl = needs('openssl', !!findTool('openssl'));

async function inTemp(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-sign-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('OpenSSL verifies our signature over the statement it rebuilds with its own sha256', openssl, () => inTemp(async (dir) => {
  const key = generateSigningKey();
  const manifest = Buffer.from('name: demo\n');
  const module = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const sig = signStatement(statementOf(manifest, module), readPrivateKey(key.privatePem, 'k'));
  await writeFile(join(dir, 'm'), manifest);
  await writeFile(join(dir, 'w'), module);
  const digest = (f: string) => execFileSync('openssl', ['dgst', '-sha256', '-r', join(dir, f)], { encoding: 'utf8' }).split(' ')[0];
  await writeFile(join(dir, 'statement'), `wasmgate-package 1\nmanifest sha256:${digest('m')}\nmodule sha256:${digest('w')}\n`);
  await writeFile(join(dir, 'sig'), sig.signature);
  await writeFile(join(dir, 'key.pub'), key.publicPem);
  const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'key.pub'), '-rawin', '-in', join(dir, 'statement'), '-sigfile', join(dir, 'sig')], { encoding: 'utf8' });
  assert.match(out, /Signature Verified Successfully/);
}));

test('we verify what OpenSSL signs with a key it generated, and the key id is sha256 of the raw key', openssl, () => inTemp(async (dir) => {
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'k.pem')]);
  execFileSync('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-pubout', '-out', join(dir, 'k.pub')]);
  const statement = statementOf(Buffer.from('a'), Buffer.from('b'));
  await writeFile(join(dir, 'statement'), statement);
  execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', join(dir, 'k.pem'), '-rawin', '-in', join(dir, 'statement'), '-out', join(dir, 'sig')]);
  const publicKey = readPublicKey(await readFile(join(dir, 'k.pub')), 'k.pub');
  // The raw key is the last 32 bytes of the DER SubjectPublicKeyInfo OpenSSL writes (RFC 8410).
  const der = execFileSync('openssl', ['pkey', '-pubin', '-in', join(dir, 'k.pub'), '-outform', 'DER']);
  const expectedId = createHash('sha256').update(der.subarray(der.length - 32)).digest('hex').slice(0, 16);
  assert.equal(keyIdOf(publicKey), expectedId);
  const signature = { keyId: expectedId, signature: await readFile(join(dir, 'sig')) };
  assert.equal(verifyStatement(statement, signature, publicKey), true);
  assert.equal(verifyStatement(statementOf(Buffer.from('a'), Buffer.from('c')), signature, publicKey), false, 'another module: no');
}));

test('the signature member reads back; a malformed one or a key of another type is refused', openssl, () => {
  const key = generateSigningKey();
  const sig = signStatement(statementOf(Buffer.from('x'), Buffer.from('y')), readPrivateKey(key.privatePem, 'k'));
  assert.deepEqual(decodeSignature(encodeSignature(sig), 'p.wgp'), { keyId: sig.keyId, signature: Buffer.from(sig.signature) });
  assert.throws(() => decodeSignature(Buffer.from('wasmgate-signature 1\nkey abc\n'), 'p.wgp'), { code: 'WG_ERR_PACKAGE_FORMAT' });
  const rsaPem = execFileSync('openssl', ['genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:1024'], { encoding: 'utf8' });
  assert.throws(() => readPrivateKey(rsaPem, 'rsa.key'), (e: Error & { code?: string }) => e.code === 'WG_ERR_PACKAGE_KEY' && /a rsa key; packages are signed with ed25519/.test(e.message));
});
