/**
 * A process that takes the plugin registry's lock and is killed (SIGKILL) while it holds it: what a
 * crash in the middle of an install leaves behind, for the stale-lock test.
 * Usage: node registry-lock-child.js REGISTRY_DIR
 */
import { withRegistryLock } from '../../src/host/packages/registry-lock.js';

const [dir] = process.argv.slice(2) as [string];
await withRegistryLock(dir, 'plugin install', async () => {
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => undefined);
});
