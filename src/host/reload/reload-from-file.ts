/**
 * A reload as SIGHUP and `wasmgate reload` ask for it: the gateway file (and its pipeline files) read
 * again and checked as `wasmgate validate` checks them, plugins configured included; a file that fails
 * changes nothing, and every problem is said with its file, line and column. Then Gateway.reload.
 */
import { formatProblem } from '../config/problem.js';
import { WgError } from '../errors.js';
import type { Gateway, ReloadOutcome } from '../gateway.js';
import type { Logger } from '../logger.js';
// In a thread of its own, as at the start: the daemon's heap never keeps the config modules.
import { loadAndConfigureApart } from '../cli/config-thread.js';

/**
 * The reload each gateway has under way. Reloads go one after the other, each reading the files only
 * once the one before is applied: two at once (SIGHUP and `wasmgate reload`) could otherwise read the
 * files at different moments and apply the older reading last.
 */
const underWay = new WeakMap<Gateway, Promise<unknown>>();

export function reloadFromFile(gateway: Gateway, logger: Logger): Promise<ReloadOutcome> {
  const previous = underWay.get(gateway) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => reloadOnce(gateway, logger));
  underWay.set(gateway, next);
  return next;
}

async function reloadOnce(gateway: Gateway, logger: Logger): Promise<ReloadOutcome> {
  const file = gateway.config.file;
  logger.info({ event: 'reload.requested', file }, 'reloading the configuration');
  try {
    const loaded = await loadAndConfigureApart(file);
    if (!loaded.ok) {
      const problems = loaded.problems.map((p) => formatProblem(p));
      throw new WgError('WG_ERR_RELOAD_REFUSED', { file, problems, detail: `the configuration has ${problems.length} problem(s), nothing was changed` });
    }
    return await gateway.reload(loaded.config);
  } catch (err) {
    const { code, context } = err as { code?: string; context?: { problems?: string[] } };
    logger.error({ event: 'reload.refused', err, code, ...(context?.problems ? { problems: context.problems } : {}) }, (err as Error).message);
    throw err;
  }
}
