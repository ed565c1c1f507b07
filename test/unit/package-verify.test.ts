/**
 * Every refusal of a package before anything is written, one hostile package each, made as
 * `plugin pack` and `sign` make them and then changed the way an attacker or an accident would:
 * unsigned, signed by a stranger, a module or a manifest changed after signing, a manifest that lies
 * about its kind, a module importing what its manifest does not list, a manifest asking for what the
 * gateway does not grant. Each is refused with its own code and a reason that names the culprit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackageFile, encodePackage, parsePackage } from '../../src/host/packages/plugin-package.js';
import { verifyPackage } from '../../src/host/packages/package-verify.js';
import type { ResolvedPluginSettings } from '../../src/host/packages/package-settings.js';
import { writeArchive } from '../../src/host/packages/package-archive.js';
import { writeKey, writePackage, type TestKey } from '../support/plugin-packages.js';
import { builtPluginPath, watBytes } from '../support/plugins.js';

let dir: string;
let vendor: TestKey;
let stranger: TestKey;
const trust = (over: Partial<ResolvedPluginSettings> = {}): ResolvedPluginSettings => ({
  requireSigned: true, trustedKeys: [{ file: vendor.publicFile, pem: vendor.publicPem, keyId: vendor.keyId }], grant: ['log', 'now'], dropIn: null, ...over,
});
const refusal = (code: string, detail: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, detail);
  return true;
};

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmgate-verify-'));
  vendor = await writeKey(dir, 'vendor');
  stranger = await writeKey(dir, 'stranger');
});
test.after(() => rm(dir, { recursive: true, force: true }));

test('a package signed by a trusted key passes, saying which key', async () => {
  const v = verifyPackage(await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.2.0', key: vendor })), trust());
  assert.deepEqual([v.plugin, v.version, v.kind, v.trusted, v.signedBy, v.keyFile, v.imports], ['scale', '0.2.0', 'transform', true, vendor.keyId, vendor.publicFile, ['log']]);
});

test('unsigned, or signed by a key the gateway does not trust: refused under require_signed, said as untrusted without', async () => {
  const unsigned = await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.2.0' }));
  assert.throws(() => verifyPackage(unsigned, trust()), refusal('WG_ERR_PACKAGE_UNSIGNED', /no signature and plugins\.require_signed is true/));
  assert.equal(verifyPackage(unsigned, trust({ requireSigned: false })).trusted, false);
  const foreign = await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.2.1', key: stranger }));
  assert.throws(() => verifyPackage(foreign, trust()), refusal('WG_ERR_PACKAGE_UNTRUSTED_KEY', new RegExp(`signed by key ${stranger.keyId}, which this gateway does not trust: the gateway trusts keys ${vendor.keyId}`)));
  assert.deepEqual([verifyPackage(foreign, trust({ requireSigned: false })).trusted, verifyPackage(foreign, trust({ requireSigned: false })).signedBy], [false, stranger.keyId]);
});

test('a module or a manifest changed after signing is refused as tampered, whatever require_signed says', async () => {
  const pkg = parsePackage(await readFile(await writePackage(dir, { name: 'scale', version: '0.2.0', key: vendor })), 'p.wgp');
  const module = Buffer.from(pkg.module);
  module[module.length - 1] ^= 1;
  const swapped = join(dir, 'module-swapped.wgp');
  await writeFile(swapped, encodePackage({ manifestBytes: pkg.manifestBytes, module, signature: pkg.signature }));
  await assert.rejects(readPackageFile(swapped), refusal('WG_ERR_PACKAGE_TAMPERED', /the module's sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/));

  // The manifest edited (a grant widened, a version bumped) but the module's sha256 left true.
  const manifest = Buffer.from(Buffer.from(pkg.manifestBytes).toString('utf8').replace('version: 0.2.0', 'version: 9.9.9'));
  const edited = join(dir, 'manifest-edited.wgp');
  await writeFile(edited, encodePackage({ manifestBytes: manifest, module: pkg.module, signature: pkg.signature }));
  const pkgEdited = await readPackageFile(edited);
  for (const requireSigned of [true, false]) {
    assert.throws(() => verifyPackage(pkgEdited, trust({ requireSigned })), refusal('WG_ERR_PACKAGE_TAMPERED', new RegExp(`the signature by key ${vendor.keyId} does not verify`)));
  }
});

test('a manifest that lies about its kind is refused, naming the exports that give it away', async () => {
  // The Modbus decoder's module, declared a transform.
  const file = await writePackage(dir, { name: 'scale', version: '0.5.0', wasm: await readFile(builtPluginPath('modbus')), key: vendor });
  const pkg = await readPackageFile(file);
  assert.throws(() => verifyPackage(pkg, trust()), refusal('WG_ERR_PACKAGE_KIND', /declares kind transform, which its module is not: it exports the polling group/));
});

test('a module importing a host function its manifest does not list is refused before it runs, naming the import', async () => {
  // The module's start function loops forever: instantiating it would hang this test.
  const pkg = await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.6.0', wasm: watBytes('imports-now-loop-start'), key: vendor }));
  assert.throws(() => verifyPackage(pkg, trust()), refusal('WG_ERR_PLUGIN_ABI', /imports function "wasmgate\.now", which its manifest does not list \(imports: \[log\]\): not granted/));
});

test('a manifest asking for a host function the gateway does not grant is refused, naming it', async () => {
  const pkg = await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.7.0', wasm: watBytes('imports-now-loop-start'), key: vendor, edit: (m) => m.replace('imports: [log]', 'imports: [log, now]') }));
  assert.throws(() => verifyPackage(pkg, trust({ grant: ['log'] })), refusal('WG_ERR_PLUGIN_NOT_GRANTED', /plugin scale needs host import wasmgate\.now, which is not granted: the gateway grants log \(plugins\.grant\)/));
});

test('a package that is not one: members missing, or a manifest without sha256', async () => {
  const onlyModule = join(dir, 'only-module.wgp');
  await writeFile(onlyModule, writeArchive([{ name: 'plugin.wasm', bytes: new Uint8Array(8) }]));
  await assert.rejects(readPackageFile(onlyModule), refusal('WG_ERR_PACKAGE_FORMAT', /missing manifest\.yaml/));
  const pkg = parsePackage(await readFile(await writePackage(dir, { name: 'scale', version: '0.8.0' })), 'p.wgp');
  const noSha = join(dir, 'no-sha.wgp');
  await writeFile(noSha, encodePackage({ manifestBytes: Buffer.from(Buffer.from(pkg.manifestBytes).toString('utf8').replace(/^sha256: .*\n/m, '')), module: pkg.module, signature: null }));
  await assert.rejects(readPackageFile(noSha), refusal('WG_ERR_PLUGIN_MANIFEST', /no-sha\.wgp!manifest\.yaml:1:1 .*must give sha256/));
});

// Regression: the kind check read the engine's facts, which count wg_framing only next to the polling
// group, so a transform exporting a lone wg_framing passed, and so did a decoder whose framing rule
// had no polling group to belong to.
test('a lone wg_framing gives a transform away; on a decoder it names the polling exports it lacks', async () => {
  const wasm = watBytes('framing-without-polling');
  const transform = await readPackageFile(await writePackage(dir, { name: 'scale', version: '0.8.0', wasm, key: vendor }));
  assert.throws(() => verifyPackage(transform, trust()), refusal('WG_ERR_PACKAGE_KIND', /declares kind transform, which its module is not: it exports wg_framing, which only a decoder has/));
  const decoder = await readPackageFile(await writePackage(dir, { name: 'modbus', version: '0.8.0', wasm, key: vendor }));
  assert.throws(() => verifyPackage(decoder, trust()), refusal('WG_ERR_PACKAGE_KIND', /declares kind decoder, which its module is not: it exports wg_framing but lacks the polling group it belongs to \(wg_requests, wg_request, wg_frame_length\)/));
});
