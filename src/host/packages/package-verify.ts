/**
 * Every check of a package before an install writes anything, and what `wasmgate plugin verify`
 * prints: the archive and the manifest (read by plugin-package.ts, with the module's sha256), the
 * signature against the trusted keys (package-trust.ts), and the module against its manifest and
 * the gateway's grant (package-module-check.ts). Nothing of the module runs.
 */
import type { PluginPackage } from './plugin-package.js';
import { checkPackageModule } from './package-module-check.js';
import { checkTrust, type TrustVerdict } from './package-trust.js';
import type { ResolvedPluginSettings } from './package-settings.js';

export interface PackageVerdict extends TrustVerdict {
  readonly plugin: string;
  readonly version: string;
  readonly kind: string;
  readonly abi: number;
  readonly sha256: string;
  readonly imports: readonly string[];
  readonly bytes: number;
}

export function verifyPackage(pkg: PluginPackage, settings: ResolvedPluginSettings): PackageVerdict {
  const trust = checkTrust(pkg, settings);
  checkPackageModule(pkg, settings.grant);
  const { name, version, kind, abi, sha256, imports } = pkg.manifest;
  return { ...trust, plugin: name, version, kind, abi, sha256, imports, bytes: pkg.module.length };
}
