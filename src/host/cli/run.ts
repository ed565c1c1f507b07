/**
 * `wasmgate run --config FILE`: validate, start, and run until a stop signal, then stop cleanly.
 *
 * Control socket (docs/control.md). Claimed first, before the gateway starts: a second daemon on the
 * same socket is refused before it polls a device or connects to a broker. Served once the gateway
 * runs (until then only `hello` answers); closed first at a stop.
 *
 * Signals. Node's defaults end the process at once for SIGHUP, SIGQUIT and SIGUSR2 and open the
 * inspector on SIGUSR1, and a second SIGTERM used to cut a drain short: each of these lost what the
 * rings and a half-full resample bucket held. So while the gateway runs, every one of them is handled:
 * - SIGTERM, SIGINT, SIGQUIT stop the gateway: polling stops, the pipelines drain, the uplinks flush.
 *   Another stop signal during the drain is logged and the drain goes on, within the stop deadline.
 * - SIGHUP is logged and ignored (it will mean "reload the configuration"); SIGUSR1 and SIGUSR2 are
 *   logged and ignored (bin/wasmgate.js holds SIGUSR1 from the first line, before this is loaded).
 */
// Not config/index.js and not validate.js: the daemon's heap must not load the config modules
// (config-thread.ts); problem.ts is plain formatting.
import { formatProblem } from '../config/problem.js';
import { loadAndConfigureApart } from './config-thread.js';
import type { StartOverlap } from './start-overlap.js';
import type { LoadResult } from '../config/load.js';
import type { ResolvedGateway } from '../config/resolved.js';
import { Gateway, type GatewayDeps } from '../gateway.js';
import { createLogger, type Logger } from '../logger.js';
import { systemClock } from '../../hal/clock.js';
import { ControlServer } from '../control/control-server.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { gatewayControl } from '../control/gateway-control.js';
import { packageVersion } from './package-version.js';
import { ServiceLifecycle } from '../service/service-lifecycle.js';
import { reloadFromFile } from '../reload/reload-from-file.js';
import { followCrashLoopRollbacks, pluginOps } from '../control/plugin-ops.js';
import type { DropInWatcher } from '../packages/drop-in.js';
import { markStart } from '../start-marks.js';
import type { SpareWorkers } from '../pipeline/spare-workers.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
const IGNORED_SIGNALS = ['SIGUSR1', 'SIGUSR2'] as const;

/**
 * How long a stop may take before the process exits anyway, with an error that says so: below the
 * unit's TimeoutStopSec=30, so the gateway ends itself and logs it instead of being SIGKILLed silently.
 * `run --stop-timeout` changes it.
 */
export const STOP_DEADLINE_MS = 25_000;

export interface RunOptions {
  /** See STOP_DEADLINE_MS. */
  stopDeadlineMs?: number;
  /** Called once the gateway runs (after `gateway.started`): work of the start that can wait. */
  onStarted?: () => void;
}

/** Loads the config and dry-configures its plugins; prints every problem and returns undefined when there are any. */
export async function loadOrReport(file: string, out: (line: string) => void, loading?: Promise<LoadResult>): Promise<ResolvedGateway | undefined> {
  const result = await (loading ?? loadAndConfigureApart(file));
  if (result.ok) return result.config;
  for (const problem of result.problems) out(formatProblem(problem));
  out(`${result.problems.length} problem(s); nothing started`);
  return undefined;
}

/**
 * The signals of a running gateway: resolves `stopRequested` at the first stop signal, hands SIGHUP to
 * `onReload` once the gateway runs (before that, and while stopping, it is said and ignored), logs the rest.
 */
class SignalWatch {
  readonly stopRequested: Promise<string>;
  #stopping = false;
  /** Set once the gateway runs. */
  onReload?: () => void;
  readonly #listeners: Array<[NodeJS.Signals, () => void]> = [];

  constructor(logger: Logger, deadlineMs: number) {
    let resolveStop!: (signal: string) => void;
    this.stopRequested = new Promise((resolve) => (resolveStop = resolve));
    for (const signal of STOP_SIGNALS) {
      this.#on(signal, () => {
        if (this.#stopping) {
          logger.warn({ event: 'gateway.signal_ignored', signal, deadlineMs }, 'already stopping: the drain goes on until it is done or the stop deadline passes');
          return;
        }
        this.#stopping = true;
        logger.info({ event: 'gateway.stopping', signal }, 'stopping');
        resolveStop(signal);
      });
    }
    this.#on('SIGHUP', () => {
      if (this.onReload && !this.#stopping) this.onReload();
      else logger.warn({ event: 'gateway.signal_ignored', signal: 'SIGHUP' }, `SIGHUP ignored: the gateway is ${this.#stopping ? 'stopping' : 'starting'}; send it again once it runs`);
    });
    for (const signal of IGNORED_SIGNALS) {
      this.#on(signal, () => logger.warn({ event: 'gateway.signal_ignored', signal }, `${signal} ignored: it has no meaning for the gateway`));
    }
  }

  #on(signal: NodeJS.Signals, listener: () => void): void {
    process.on(signal, listener);
    this.#listeners.push([signal, listener]);
  }

  dispose(): void {
    for (const [signal, listener] of this.#listeners) process.off(signal, listener);
  }
}

export async function runGateway(config: ResolvedGateway, deps: Partial<GatewayDeps> = {}, options: RunOptions = {}): Promise<number> {
  const logger = deps.logger ?? createLogger(config.log.level, config.log.format, { gateway: config.id });
  const deadlineMs = options.stopDeadlineMs ?? STOP_DEADLINE_MS;
  // Watched from before the start: a signal during start must not kill the process either.
  const signals = new SignalWatch(logger, deadlineMs);
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  let service: ServiceLifecycle | undefined;
  let dropIn: DropInWatcher | undefined;
  let fleet: { stop(): Promise<void> } | undefined;
  try {
    // The control socket is claimed before anything starts: a second daemon on the same socket is
    // almost always a second daemon on the same devices and broker, and must not reach them.
    if (config.control.socket !== null) {
      try {
        control = await ControlServer.listen(config.control.socket, { logger, identity: { gateway: config.id, version: packageVersion() } });
      } catch (err) {
        logger.fatal({ event: 'gateway.start_failed', err, code: (err as { code?: string }).code }, `${(err as Error).message}; nothing started`);
        return 1;
      }
    }
    if (config.metrics) {
      try {
        // Loaded only when asked for: prom-client and its dependencies are ~80 modules at start.
        const { MetricsServer } = await import('../metrics/metrics-server.js');
        metrics = await MetricsServer.listen({ ...config.metrics, logger });
      } catch (err) {
        logger.fatal({ event: 'gateway.start_failed', err, code: (err as { code?: string }).code }, `${(err as Error).message}; nothing started`);
        return 1;
      }
    }
    const clock = deps.clock ?? systemClock;
    const startedAt = { monotonicMs: clock.monotonicMs(), wallMs: clock.wallMs() };
    let gateway: Gateway;
    try {
      gateway = await Gateway.start(config, { ...deps, logger });
    } catch (err) {
      logger.fatal({ event: 'gateway.start_failed', err, code: (err as { code?: string }).code }, 'gateway failed to start');
      return 1;
    }
    options.onStarted?.();
    const server = control;
    server?.serve(gatewayControl({ gateway, logger, clock, version: packageVersion(), startedAt, control: () => ({ socket: server.socketPath, ...server.counters() }), dropIn: () => dropIn?.status() }));
    metrics?.serve(() => gateway.status());
    // The registry follows the crash-loop guard; the drop-in directory installs what is copied into it.
    followCrashLoopRollbacks(gateway, logger);
    if (config.plugins.dropIn !== null) {
      const { DropInWatcher } = await import('../packages/drop-in.js');
      dropIn = DropInWatcher.start({
        dir: config.plugins.dropIn,
        logger,
        install: async (file, bytes) => (await pluginOps(gateway, logger)).install({ file, bytes }, 'drop-in'),
      });
    }
    // The fleet's command topic (docs/fleet.md): its installs take the same way, and the same queue.
    fleet = await startFleet(config, gateway, logger);
    // Under systemd (Type=notify): READY=1 now, watchdog pings while healthy, STOPPING=1 at the stop.
    service = ServiceLifecycle.fromEnv({ logger, clock, pipelines: () => gateway.status().pipelines });
    await service.ready();
    // A failed reload is logged with its reasons by reloadFromFile and changes nothing.
    signals.onReload = () => void reloadFromFile(gateway, logger).catch(() => undefined);
    await signals.stopRequested;
    await service.stopping();
    // No new install once stopping; one under way finishes first.
    await dropIn?.stop();
    // First: no request may reach a gateway that is stopping.
    await control?.close();
    await fleet?.stop();
    await metrics?.close();
    let deadline: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      gateway.stop().then(() => 'stopped' as const),
      new Promise<'late'>((resolve) => (deadline = setTimeout(() => resolve('late'), deadlineMs))),
    ]);
    clearTimeout(deadline);
    if (outcome === 'late') {
      logger.error({ event: 'gateway.stop_late', deadlineMs }, 'stop deadline passed before the pipelines drained; exiting with what is left unsent');
      return 1;
    }
    return 0;
  } finally {
    await dropIn?.stop();
    service?.close();
    await fleet?.stop();
    await control?.close();
    await metrics?.close();
    signals.dispose();
  }
}

/** The fleet client, loaded only for a gateway file with a `fleet:` block. */
async function startFleet(config: ResolvedGateway, gateway: Gateway, logger: Logger): Promise<{ stop(): Promise<void> } | undefined> {
  if (config.fleet === null) return undefined;
  const uplink = config.uplinks.find((u) => u.name === config.fleet!.uplink);
  if (uplink?.transport !== 'mqtt') return undefined; // the checks refuse any other
  const { FleetAgent } = await import('../fleet/fleet-agent.js');
  return FleetAgent.start({ gateway, logger, ops: () => pluginOps(gateway, logger), settings: config.fleet, uplink });
}

export async function runCommand(file: string, out: (line: string) => void, options: RunOptions = {}, start?: StartOverlap): Promise<number> {
  const config = await loadOrReport(file, out, start?.loaded);
  if (!config) return 1;
  markStart('config');
  await start?.warmed;
  markStart('modules');
  const logger = createLogger(config.log.level, config.log.format, { gateway: config.id });
  logCrashes(logger);
  const spares = await start?.spares;
  const deps: Partial<GatewayDeps> = { logger, ...(spares ? { spares } : {}) };
  const cache = await start?.cache;
  if (cache === undefined) return runGateway(config, deps, withSparesEnded(options, spares));
  logger.info(
    { event: 'config.cache', used: cache.used, ...(cache.reason !== undefined ? { reason: cache.reason } : {}), ...(cache.file !== undefined ? { file: cache.file } : {}) },
    cache.used ? 'configuration from the start cache: every input as at the last start' : `configuration read and checked in full (start cache: ${cache.reason})`,
  );
  const save = cache.save;
  const onStarted = save
    ? () => {
        void save().then((outcome) => {
          if (outcome.written) logger.info({ event: 'config.cache', written: true, file: outcome.file }, 'start cache written');
          else logger.warn({ event: 'config.cache', written: false, reason: outcome.reason, file: cache.file }, `start cache not written (${outcome.reason}); the next start reads the files in full`);
        });
      }
    : undefined;
  return runGateway(config, deps, withSparesEnded({ ...options, ...(onStarted ? { onStarted } : {}) }, spares));
}

/** The spare pipeline workers nobody took are ended once the gateway runs (or when it failed to). */
function withSparesEnded(options: RunOptions, spares: SpareWorkers | undefined): RunOptions {
  if (!spares) return options;
  const onStarted = options.onStarted;
  return {
    ...options,
    onStarted: () => {
      void spares.dispose();
      onStarted?.();
    },
  };
}

/**
 * A fault on the main thread that nothing caught ends the daemon as Node would (exit 1, systemd
 * restarts it), but said as a log line like every other, with its event, so that a log shipper and
 * an alert see it; Node's own plain stack on stderr would be the one line without either.
 */
function logCrashes(logger: Logger): void {
  const crash = (err: unknown, origin: string): void => {
    logger.fatal({ event: 'gateway.crashed', err, origin }, `the daemon crashed (${origin}): ${(err as Error)?.message ?? String(err)}`);
    process.exit(1);
  };
  process.on('uncaughtException', (err, origin) => crash(err, origin));
  process.on('unhandledRejection', (reason) => crash(reason, 'unhandledRejection'));
}
