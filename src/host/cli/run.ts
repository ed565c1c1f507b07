/** `wasmgate run --config FILE`: validate, start, and run until SIGINT/SIGTERM, then stop cleanly. */
import { formatProblem } from '../config/index.js';
import { loadAndConfigure } from './validate.js';
import type { ResolvedGateway } from '../config/resolved.js';
import { Gateway, type GatewayDeps } from '../gateway.js';
import { createLogger } from '../logger.js';

/** Loads the config and dry-configures its plugins; prints every problem and returns undefined when there are any. */
export async function loadOrReport(file: string, out: (line: string) => void): Promise<ResolvedGateway | undefined> {
  const result = await loadAndConfigure(file);
  if (result.ok) return result.config;
  for (const problem of result.problems) out(formatProblem(problem));
  out(`${result.problems.length} problem(s); nothing started`);
  return undefined;
}

export async function runGateway(config: ResolvedGateway, deps: Partial<GatewayDeps> = {}): Promise<number> {
  const logger = deps.logger ?? createLogger(config.log.level, config.log.format, { gateway: config.id });
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { ...deps, logger });
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, 'gateway failed to start');
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await gateway.stop();
  return 0;
}

export async function runCommand(file: string, out: (line: string) => void): Promise<number> {
  const config = await loadOrReport(file, out);
  return config ? runGateway(config) : 1;
}
