/**
 * Where the plugin registry's files are in the data directory (plugin-registry.ts has the layout). On
 * its own so that the daemon's main thread can tell a registry path without loading the registry's
 * modules, which read manifests with yaml.
 */
import { join, sep } from 'node:path';

export const REGISTRY_DIR = 'plugins';
export const INDEX_FILE = 'registry.json';

/** True when `wasmPath` is a module stored in the registry of data directory `dataDir`. */
export function isRegistryPath(dataDir: string, wasmPath: string): boolean {
  return wasmPath.startsWith(`${join(dataDir, REGISTRY_DIR)}${sep}`);
}
