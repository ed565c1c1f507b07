/**
 * The `event` of every log line: a stable name an operator can alert on, filter by and count, where
 * the message text is for a person and may be reworded. Each names what it concerns: the key every
 * line of that event carries (`gateway` is in every line of the daemon already). docs/logging.md
 * lists them; a test fails when the two differ, and the daemon's own lines are checked against this
 * catalog in the log test. Renaming one is a breaking change of the log, like renaming a metric.
 */
export type Concern = 'gateway' | 'pipeline' | 'device' | 'plugin' | 'uplink' | 'link' | 'socket';

interface EventEntry {
  readonly concerns: Concern;
  readonly means: string;
}

export const LOG_EVENTS = {
  'gateway.started': { concerns: 'gateway', means: 'every pipeline and uplink started; `startMs`: when each phase of the start ended, in ms since the process started (`cli`, `configBooted`, `configCache`, `configImported`, `configLoaded`, `configConfigured`, `config`, `modules`, `gateway`; start-marks.ts)' },
  'gateway.start_failed': { concerns: 'gateway', means: 'the gateway could not start; nothing runs (`code` says why)' },
  'gateway.stopping': { concerns: 'gateway', means: 'a stop signal arrived; the pipelines drain' },
  'gateway.stop_late': { concerns: 'gateway', means: 'the stop deadline passed before the drain finished' },
  'gateway.stopped': { concerns: 'gateway', means: 'the gateway stopped cleanly' },
  'gateway.crashed': { concerns: 'gateway', means: 'a fault on the main thread nothing caught: the daemon exits 1 (systemd restarts it)' },
  'gateway.status': { concerns: 'gateway', means: 'the periodic status summary (`status_interval`)' },
  'gateway.signal_ignored': { concerns: 'gateway', means: 'a signal with no meaning now (a second stop, SIGHUP while starting, SIGUSR1 …)' },
  'config.cache': { concerns: 'gateway', means: 'at start: whether the configuration came from the start cache (`used`) or was read in full, and why (`reason`); after a full read, whether the cache was `written`' },
  'reload.requested': { concerns: 'gateway', means: 'a reload began: the files are read again' },
  'reload.applied': { concerns: 'gateway', means: 'a reload took effect; which pipelines restarted, started, stopped' },
  'reload.refused': { concerns: 'gateway', means: 'a reload changed nothing (`code`, `problems`)' },
  'control.listening': { concerns: 'socket', means: 'the local control socket accepts connections' },
  'control.closed': { concerns: 'socket', means: 'the control socket is closed' },
  'control.request': { concerns: 'socket', means: 'a request arrived on the control socket (debug)' },
  'control.refused': { concerns: 'socket', means: 'a control connection or request was refused' },
  'control.failed': { concerns: 'socket', means: 'a control operation failed' },
  'control.write': { concerns: 'device', means: 'a write to a device was asked over the control socket' },
  'metrics.listening': { concerns: 'socket', means: 'the metrics and health endpoint listens' },
  'service.notify': { concerns: 'gateway', means: "systemd's notify socket could not be written" },
  'service.watchdog': { concerns: 'gateway', means: 'watchdog pings started, withheld (a pipeline is unhealthy) or resumed' },
  'uplink.connected': { concerns: 'uplink', means: 'the uplink reached its broker or server' },
  'uplink.lost': { concerns: 'uplink', means: 'the uplink lost its connection' },
  'uplink.connect_failed': { concerns: 'uplink', means: 'an attempt to connect failed (said once per distinct reason)' },
  'uplink.disconnected': { concerns: 'uplink', means: 'the broker sent DISCONNECT with a reason' },
  'uplink.protocol_fallback': { concerns: 'uplink', means: 'the broker does not speak MQTT 5; 3.1.1 is used' },
  'uplink.takeover': { concerns: 'uplink', means: "another client takes this uplink's client id" },
  'uplink.takeover_over': { concerns: 'uplink', means: 'the client id is no longer taken over' },
  'uplink.message_refused': { concerns: 'uplink', means: 'the broker or server refused one message (dead-lettered)' },
  'uplink.status_failed': { concerns: 'uplink', means: 'the online status could not be published' },
  'uplink.closed': { concerns: 'uplink', means: 'the uplink closed, with its counters' },
  'outbox.problem': { concerns: 'gateway', means: 'the outbox store reported a problem (disk full, I/O error, corrupt file)' },
  'outbox.refused': { concerns: 'gateway', means: 'the outbox could not take messages: they are lost and counted' },
  'outbox.replay': { concerns: 'uplink', means: 'an uplink connected with a backlog and replays it' },
  'outbox.caught_up': { concerns: 'uplink', means: 'the backlog is delivered' },
  'outbox.remove_failed': { concerns: 'uplink', means: 'delivered messages could not be removed; they will be sent again' },
  'pipeline.message': { concerns: 'pipeline', means: 'a message as published (`--log-messages`, the demo)' },
  'worker.crashed': { concerns: 'pipeline', means: "the pipeline's worker crashed; it restarts" },
  'worker.deadline': { concerns: 'plugin', means: 'a plugin call ran past its deadline; the worker was terminated' },
  'worker.restart_failed': { concerns: 'pipeline', means: 'the worker could not be restarted; retried with back-off' },
  'link.in_flight_limited': { concerns: 'link', means: 'in_flight was asked of a decoder that cannot match answers; one at a time' },
  'push.listening': { concerns: 'link', means: 'a push source takes what its devices send: where, and how many resources' },
  'push.refused': { concerns: 'link', means: 'a push source refused what a device sent (`reason`), with the `sender`; repeats summarised per reason' },
  'push.socket_failed': { concerns: 'link', means: "a push source's socket failed under it (or overflowed); it is opened again" },
  'push.stopped': { concerns: 'link', means: 'a push source stopped, with its counters' },
  'device.polling': { concerns: 'device', means: 'a device is polled: its link, requests and points' },
  'device.problem': { concerns: 'device', means: 'a poll failed: no answer, exception, bad frame, link error (`code`)' },
  'device.recovered': { concerns: 'device', means: 'a device answers again' },
  'device.unasked_bytes': { concerns: 'device', means: 'bytes nobody asked for arrived; the link is reopened' },
  'device.overrun': { concerns: 'device', means: 'a poll cycle took longer than the interval; polls were skipped' },
  'device.overrun_over': { concerns: 'device', means: 'the device keeps its interval again' },
  'device.quarantined': { concerns: 'device', means: 'a dead device is only probed now and then, so its link keeps its rate' },
  'device.quarantine_lifted': { concerns: 'device', means: 'a quarantined device answered a probe' },
  'device.poller_failed': { concerns: 'device', means: "a device's poller failed unexpectedly; it polls again after one interval" },
  'device.cov_subscribed': { concerns: 'device', means: 'a BACnet device accepted every SubscribeCOV: its values come as COV notifications (polled only every `refresh`)' },
  'device.cov_fallback': { concerns: 'device', means: 'a BACnet device refused SubscribeCOV or did not answer it: it is polled at its interval (`reason`)' },
  'plugin.log': { concerns: 'plugin', means: 'a line the plugin logged itself (wg_log)' },
  'plugin.batch_dropped': { concerns: 'plugin', means: 'a plugin trapped or failed on a batch; that batch is dropped and counted' },
  'plugin.replace_failed': { concerns: 'plugin', means: 'a trapped instance could not be replaced; tried again on the next batch' },
  'plugin.stats_failed': { concerns: 'plugin', means: "a plugin's counters (wg_stats) could not be read" },
  'plugin.framing_fallback': { concerns: 'plugin', means: "a decoder's framing rule does not cover a request; frames are delimited in the worker" },
  'plugin.poll_failed': { concerns: 'plugin', means: "a decoder's polling call (request, frame length, write) failed" },
  'plugin.swapped': { concerns: 'plugin', means: 'a reload swapped a step to a new version in the running worker; `state` says whether its state was handed over' },
  'plugin.swap_restart': { concerns: 'pipeline', means: "a new decoder's request plan differs: the pipeline is restarted instead of swapped" },
  'plugin.swap_failed': { concerns: 'pipeline', means: 'a swap was refused (canary, configure, ABI): the old version stays live (`code`)' },
  'plugin.rollback': { concerns: 'plugin', means: 'a swapped-in version kept trapping: rolled back to the previous one (WG_ERR_SWAP_ROLLED_BACK)' },
  'plugin.installed': { concerns: 'plugin', means: 'a plugin package was installed and went live; its version, the one before, the pipelines running it' },
  'plugin.install_refused': { concerns: 'plugin', means: "an install changed nothing, the running version runs on (`code`; `plugin` is the package file's name when it could not be read)" },
  'plugin.rolled_back': { concerns: 'plugin', means: 'a plugin was rolled back to the version before (`from`, `to`) and that went live' },
  'plugin.rollback_refused': { concerns: 'plugin', means: 'a rollback changed nothing (`code`)' },
  'plugin.registry_locked': { concerns: 'gateway', means: 'the plugin registry is locked by another process (an offline install): the install or rollback waits for it (`holder`)' },
  'dropin.watching': { concerns: 'gateway', means: 'the drop-in directory is watched for packages (`dir`)' },
  'dropin.unavailable': { concerns: 'gateway', means: 'the drop-in directory is missing or not writable: nothing is taken from it, looked at again every 10 s (`dir`, `reason`)' },
  'dropin.incomplete': { concerns: 'plugin', means: 'a drop-in file starts like a package but has no end yet (still being copied): waited for, refused if it stays so for 30 s (`file`)' },
  'dropin.installed': { concerns: 'plugin', means: 'a package from the drop-in directory went live (or was the active version already) and was moved to installed/ (`file`, `moved`)' },
  'dropin.refused': { concerns: 'plugin', means: 'a file in the drop-in directory was refused and moved to refused/ with a .reason file (`file`, `code`)' },
  'dropin.flood': { concerns: 'gateway', means: 'more files wait in the drop-in directory than one look takes; the rest are taken later (`waiting`, `limit`)' },
  'dropin.move_failed': { concerns: 'plugin', means: 'a drop-in file could not be moved out after its outcome; it is left in place and not taken again until it changes (`file`)' },
  'rule.fired': { concerns: 'pipeline', means: 'a rule fired: its condition held for its `for:` (`rule`, `severity`; docs/rules.md)' },
  'rule.cleared': { concerns: 'pipeline', means: 'a rule that fired cleared' },
  'rule.write': { concerns: 'device', means: "a rule's write: written and confirmed, or not (`outcome`: interlocked, rate-limited, dry-run, failed)" },
  'rule.state_restored': { concerns: 'pipeline', means: "the rules go on from the state saved in data_dir: active alarms, for: timers, windows, of every rule kept unchanged (`kept` of `rules`)" },
  'rule.state_fresh': { concerns: 'pipeline', means: 'the rules start as nothing seen (`reason`: no state saved, an older file format, a damaged file)' },
  'rule.state_save_failed': { concerns: 'pipeline', means: "the rules' state could not be saved in data_dir; they run on, a restart would start them fresh" },
  'rule.eval_failed': { concerns: 'pipeline', means: "the compiled rules trapped on a batch: its events are lost, the rules' state starts again" },
  'rule.audit_failed': { concerns: 'gateway', means: "a rule write could not be recorded in the audit file in data_dir (it is still published)" },
  'rule.audit_rotated': { concerns: 'gateway', means: 'the rules audit file reached 8 MiB and was moved to rules-audit.1.jsonl (the one before dropped); a new one begun (`bytes`)' },
  'rule.alarm_withdrawn': { concerns: 'pipeline', means: 'an alarm active in the saved state whose rule was removed or changed is cleared, marked withdrawn (`rule`; no write-back)' },
  'fleet.connected': { concerns: 'gateway', means: 'the fleet client reached its broker and listens on its command topics (docs/fleet.md)' },
  'fleet.connect_failed': { concerns: 'gateway', means: 'the fleet client cannot connect or subscribe (said once per distinct reason); it retries' },
  'fleet.lost': { concerns: 'gateway', means: 'the fleet client lost its broker connection; it reconnects' },
  'fleet.command': { concerns: 'gateway', means: 'a fleet command was taken up (`id`, `op`, `plugin`, `version`)' },
  'fleet.applied': { concerns: 'gateway', means: 'a fleet command was done: `outcome` applied or unchanged' },
  'fleet.refused': { concerns: 'gateway', means: 'a fleet command changed nothing (`code`: malformed, expired, hash, size, fetch, or the install refused it)' },
  'fleet.duplicate': { concerns: 'gateway', means: 'a fleet command id taken up before came again: not applied twice' },
  'fleet.dropped': { concerns: 'gateway', means: 'fleet commands dropped unread because fleet.queue commands wait already (a flood; `dropped` counts them)' },
  'fleet.rolled_back': { concerns: 'plugin', means: 'a crash-loop rollback was reported on the fleet status topic (`id`: the fleet command that installed the version, when one did)' },
  'fleet.status_failed': { concerns: 'gateway', means: 'the fleet status could not be published' },
  'fleet.journal_damaged': { concerns: 'gateway', means: 'the fleet journal of command ids cannot be read; it starts empty' },
  'fleet.failed': { concerns: 'gateway', means: 'handling a fleet command failed unexpectedly (a bug: `err`)' },
  'commission.read': { concerns: 'link', means: 'a commissioning read (probe, scan, write) on a running link, or its early end' },
  'demo.ready': { concerns: 'gateway', means: "the demo's simulator or broker is ready" },
  'subscription.connected': { concerns: 'link', means: 'an `mqtt_subscribe` source reached its broker and subscribed its topics (`broker`, `filters`, `sessionPresent`)' },
  'subscription.lost': { concerns: 'link', means: 'an `mqtt_subscribe` source lost its broker connection; it reconnects with back-off' },
  'subscription.connect_failed': { concerns: 'link', means: 'an `mqtt_subscribe` source cannot reach its broker (said once per distinct reason)' },
  'subscription.subscribe_failed': { concerns: 'link', means: 'the broker refused a topic filter of an `mqtt_subscribe` source (SUBACK failure: an ACL?)' },
} as const satisfies Record<string, EventEntry>;

export type LogEvent = keyof typeof LOG_EVENTS;

/** What a log call passes besides its message: the event, then whatever the line concerns. */
export interface LogContext {
  event: LogEvent;
  [key: string]: unknown;
}

/** A log call at a numeric level (10 trace … 60 fatal), as the worker and the pollers make them. */
export type LevelLog = (level: number, message: string, context: LogContext) => void;
