/**
 * A process that installs a package into a registry and kills itself (SIGKILL) at one stage of the
 * registry's write (plugin-registry.ts, RegistryFaultHook), for the crash test.
 * Usage: node registry-install-child.js DATA_DIR PACKAGE STAGE
 */
import { PluginRegistry } from '../../src/host/packages/plugin-registry.js';
import { readPackageFile } from '../../src/host/packages/plugin-package.js';

const [dataDir, file, stage] = process.argv.slice(2) as [string, string, string];
const registry = new PluginRegistry(dataDir, {
  faults: (reached) => {
    if (reached === stage) process.kill(process.pid, 'SIGKILL');
  },
});
await registry.install(await readPackageFile(file), null);
process.stdout.write('installed\n');
