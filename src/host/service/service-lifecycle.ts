/**
 * What the daemon tells systemd (Type=notify, docs/service.md): READY=1 once the gateway runs,
 * WATCHDOG=1 every WATCHDOG_USEC/2 while PipelineHealth finds it healthy, STOPPING=1 when a stop
 * begins. Pings stop while a pipeline is failed or stuck, and then systemd, WatchdogSec after the last
 * one, kills the daemon and (Restart=on-failure) starts it again. A main thread that hangs sends none
 * either, which is the other half of what the watchdog is for.
 */
import type { Logger } from '../logger.js';
import type { Clock } from '../../hal/clock.js';
import type { PipelineStatus } from '../pipeline/pipeline-runner.js';
import { PipelineHealth } from './pipeline-health.js';
import { notifierFromEnv, type ServiceNotifier } from './sd-notify.js';

/**
 * How often to ping, ms: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; undefined when
 * systemd expects no pings, or expects them from another process (WATCHDOG_PID).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export interface ServiceLifecycleOptions {
  notifier: ServiceNotifier;
  logger: Logger;
  clock: Clock;
  /** The running gateway's pipelines, asked at every ping. */
  pipelines: () => readonly PipelineStatus[];
  env?: NodeJS.ProcessEnv;
}

export class ServiceLifecycle {
  /** The lifecycle $NOTIFY_SOCKET and $WATCHDOG_USEC ask for; a notifier that cannot be made is logged and none is used. */
  static fromEnv(options: Omit<ServiceLifecycleOptions, 'notifier'>): ServiceLifecycle {
    const env = options.env ?? process.env;
    let notifier: ServiceNotifier;
    try {
      notifier = notifierFromEnv(env);
    } catch (err) {
      options.logger.warn({ event: 'service.notify', code: (err as { code?: string }).code }, (err as Error).message);
      notifier = notifierFromEnv({});
    }
    return new ServiceLifecycle({ ...options, notifier, env });
  }

  readonly intervalMs: number | undefined;
  #options: ServiceLifecycleOptions;
  #health: PipelineHealth | undefined;
  #timer?: NodeJS.Timeout;
  #withheld = false;
  #notifyFailed = false;

  constructor(options: ServiceLifecycleOptions) {
    this.#options = options;
    this.intervalMs = options.notifier.socket ? watchdogIntervalMs(options.env) : undefined;
    // A pipeline may be out of order for one whole watchdog period before the pings stop: a restart
    // with back-off is the gateway containing a fault, not a reason to restart the process.
    if (this.intervalMs !== undefined) this.#health = new PipelineHealth(this.intervalMs * 2);
  }

  /** READY=1, then the pings. Call once the gateway runs. */
  async ready(): Promise<void> {
    const count = this.#options.pipelines().length;
    await this.#send('READY=1', `STATUS=running, ${count} pipeline(s)`);
    if (this.intervalMs === undefined) return;
    this.#options.logger.info({ event: 'service.watchdog', intervalMs: this.intervalMs, socket: this.#options.notifier.socket }, 'service watchdog: pinging while the pipelines are healthy');
    this.#timer = setInterval(() => void this.#ping(), this.intervalMs);
  }

  /** STOPPING=1, and no more pings. */
  async stopping(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#send('STOPPING=1', 'STATUS=stopping: draining the pipelines and the outbox');
  }

  close(): void {
    clearInterval(this.#timer);
    this.#options.notifier.close();
  }

  async #ping(): Promise<void> {
    const verdict = this.#health!.check(this.#options.pipelines(), this.#options.clock.monotonicMs());
    const { logger } = this.#options;
    if (!verdict.healthy) {
      if (!this.#withheld) {
        logger.error({ event: 'service.watchdog', code: 'WG_ERR_SERVICE_UNHEALTHY', reasons: verdict.reasons }, `watchdog pings withheld: ${verdict.reasons.join('; ')}`);
        await this.#send(`STATUS=unhealthy: ${verdict.reasons.join('; ')}`);
      }
      this.#withheld = true;
      return;
    }
    if (this.#withheld) logger.info({ event: 'service.watchdog' }, 'watchdog pings resumed: every pipeline is healthy again');
    this.#withheld = false;
    await this.#send('WATCHDOG=1');
  }

  async #send(...fields: string[]): Promise<void> {
    const { notifier, logger } = this.#options;
    if (!notifier.socket) return;
    try {
      await notifier.notify(...fields);
      this.#notifyFailed = false;
    } catch (err) {
      // Said once per run of failures: a ping every few seconds must not flood the journal.
      if (!this.#notifyFailed) logger.warn({ event: 'service.notify', err, code: (err as { code?: string }).code }, (err as Error).message);
      this.#notifyFailed = true;
    }
  }
}
