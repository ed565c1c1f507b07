/**
 * The one registry of wasmgate error codes. Every error the host raises or reports is a `WgError`
 * (or, from the HAL, a `HalError`: same base, src/errors.ts)
 * carrying a stable `WG_ERR_<AREA>_<WHAT>` code and the domain context it concerns (file, device,
 * point, pipeline, step, plugin...). Callers branch on `code`, never on message text.
 *
 * Rules: every code here is documented in docs/errors.md (a test enforces both directions); a code
 * that is retired is never reused; messages are templates filled from the context.
 */

import { CodedError, type CodeSpec, type ErrorContext } from '../errors.js';
import { HAL_ERROR_CODES } from '../hal/errors.js';

export type { ErrorContext };

export const ERROR_CODES = {
  // --- config ---
  WG_ERR_CONFIG_READ: { message: 'cannot read config file {file}: {detail}' },
  WG_ERR_CONFIG_SYNTAX: { message: 'YAML syntax error: {detail}' },
  WG_ERR_CONFIG_TOO_LARGE: { message: 'config file too large: {detail}' },
  WG_ERR_CONFIG_ENV: { message: 'environment reference: {detail}' },
  WG_ERR_CONFIG_THREAD: { message: 'the configuration thread reading {file} failed: {detail}' },
  WG_ERR_CONFIG_INVALID: { message: '{detail}' },
  WG_ERR_CONFIG_CONFLICT: { message: '{detail}' },
  WG_ERR_CONFIG_PIPELINE_MISSING: { message: 'pipeline file {detail} not found' },
  WG_ERR_CONFIG_UNKNOWN_UPLINK: { message: 'uplink "{uplink}" is not defined in the gateway file' },
  WG_ERR_CONFIG_UNKNOWN_PLUGIN: { message: 'plugin "{plugin}" not found: {detail}' },
  WG_ERR_CONFIG_PLUGIN_SETTINGS: { message: 'plugin "{plugin}" setting {setting}: {detail}' },
  WG_ERR_CONFIG_DUPLICATE_NAME: { message: '{kind} name "{name}" is already used at {detail}' },
  WG_ERR_CONFIG_UNKNOWN_PLACEHOLDER: { message: 'topic placeholder "{detail}" is unknown; known: {known}' },
  WG_ERR_CONFIG_FILE_UNREADABLE: { message: 'cannot read {target}: {detail}' },
  WG_ERR_CONFIG_RULE: { message: 'rule {rule}: {detail}' },
  WG_ERR_CONFIG_SUBSCRIPTION_LOOP: { message: 'subscribes to the gateway\'s own topics: {detail}' },
  // --- plugin / engine ---
  WG_ERR_PLUGIN_ABI: { message: 'plugin {plugin} ({file}) does not follow the wasmgate ABI: {detail}' },
  WG_ERR_PLUGIN_COMPILE: { message: 'plugin {plugin} ({file}) is not a valid WebAssembly module: {detail}' },
  WG_ERR_PLUGIN_INSTANTIATE: { message: 'plugin {plugin} failed to instantiate: {detail}' },
  WG_ERR_PLUGIN_CONFIGURE: { message: 'plugin {plugin} rejected its settings: {detail}' },
  WG_ERR_PLUGIN_TRAP: { message: 'plugin {plugin} trapped in {detail}' },
  WG_ERR_PLUGIN_STATUS: { message: 'plugin {plugin} returned error status {detail}' },
  WG_ERR_PLUGIN_TIMEOUT: { message: 'plugin {plugin} did not return in time: {detail}' },
  WG_ERR_PLUGIN_MEMORY: { message: 'plugin {plugin} ({file}) cannot run within its memory limit: {detail}' },
  WG_ERR_PLUGIN_MANIFEST: { message: 'plugin manifest {file} is invalid: {detail}' },
  WG_ERR_PLUGIN_BUILD: { message: 'building plugin {plugin} failed: {detail}' },
  // --- pipeline worker ---
  WG_ERR_WORKER_CRASHED: { message: 'pipeline {pipeline} worker exited unexpectedly: {detail}' },
  WG_ERR_WORKER_RESTART_FAILED: { message: 'pipeline {pipeline} worker could not be restarted: {detail}' },
  WG_ERR_WORKER_UNAVAILABLE: { message: 'pipeline {pipeline} cannot frame device traffic now: {detail}' },
  // --- ring ---
  WG_ERR_RING_RECORD_TOO_LARGE: { message: 'record of {detail} bytes does not fit the ring' },
  WG_ERR_RING_CAPACITY: { message: 'ring capacity {detail} is not a power of two from 64 bytes to 1 GiB' },
  WG_ERR_RING_NOT_A_RING: { message: 'shared buffer is not a wasmgate ring: {detail}' },
  WG_ERR_RING_BAD_RELEASE: { message: 'cannot release the ring up to position {detail}: not a record boundary between the tail and the head' },
  WG_ERR_RING_MAIN_THREAD_WAIT: { message: 'blocking ring wait ({detail}) called on the main thread; use the async variant' },
  // --- demo PLC simulator ---
  WG_ERR_DEMO_PLC_REGISTER: { message: 'demo PLC simulator {table} {address}: {detail}' },
  WG_ERR_DEMO_PLC_LISTEN: { message: 'demo PLC simulator cannot listen on {detail}' },
  // --- HAL / devices --- (the HAL's own codes are declared in src/hal/errors.ts, below the host)
  ...HAL_ERROR_CODES,
  WG_ERR_DEVICE_NO_ANSWER: { message: 'device {device} ({where}) does not answer within {timeout}: {hint}' },
  WG_ERR_DEVICE_FRAMING: { message: 'device {device} sent bytes that do not frame: {detail}' },
  WG_ERR_DEVICE_POLLER: { message: 'poller of device {device} failed: {detail}' },
  WG_ERR_DEVICE_OVERRUN: { message: 'device {device} falls behind: {missed} poll(s) skipped' },
  WG_ERR_DEVICE_QUARANTINED: { message: 'device {device} quarantined after {cycles} poll cycles without an answer' },
  WG_ERR_DEVICE_EXCEPTION: { message: 'device {device} answered the write of point {point} with an exception: {detail}' },
  WG_ERR_DEVICE_REFUSED: { message: 'device {device} refused the write of point {point}: {detail}' },
  WG_ERR_WRITE_REFUSED: { message: 'write of point {point} to device {device} refused: {detail}' },
  WG_ERR_SOURCE_NOT_TAKEN: { message: 'source {source} did not take the message on {topic}, and did not acknowledge it: {detail}' },
  WG_ERR_WRITE_UNCONFIRMED: { message: 'device {device} did not confirm the write of point {point}: {detail}' },
  // --- uplinks / sinks ---
  WG_ERR_UPLINK_CONNECT: { message: 'uplink {uplink} cannot connect: {detail}' },
  WG_ERR_UPLINK_TAKEOVER: { message: 'uplink {uplink}: another client with client id "{clientId}" keeps taking over the session: {detail}' },
  WG_ERR_UPLINK_PUBLISH: { message: 'uplink {uplink} publish failed: {detail}' },
  WG_ERR_UPLINK_REFUSED: { message: 'uplink {uplink} refused the message for good: {detail}' },
  WG_ERR_UPLINK_BROKER_LISTEN: { message: 'embedded MQTT broker cannot listen on {detail}' },
  // --- control socket (src/host/control/, docs/control.md) ---
  WG_ERR_CONTROL_SOCKET_IN_USE: { message: 'control socket {socket} is served by another running daemon{other}: two daemons on one socket are almost always two daemons polling the same devices' },
  WG_ERR_CONTROL_SOCKET_LISTEN: { message: 'cannot listen on control socket {socket}: {detail}' },
  WG_ERR_CONTROL_UNREACHABLE: { message: 'no daemon answers on control socket {socket}: {detail}' },
  WG_ERR_CONTROL_DENIED: { message: 'not allowed to open control socket {socket}: {detail}' },
  WG_ERR_CONTROL_TIMEOUT: { message: 'the daemon on control socket {socket} did not answer {op} within {timeout}' },
  WG_ERR_CONTROL_CLOSED: { message: 'the daemon on control socket {socket} closed the connection without answering {op}: it is stopping or restarting, or it crashed; see its log' },
  WG_ERR_CONTROL_PROTOCOL: { message: 'what answers on control socket {socket} does not speak the wasmgate control protocol: {detail}' },
  WG_ERR_CONTROL_REQUEST: { message: 'control request refused: {detail}' },
  WG_ERR_CONTROL_UNKNOWN_OP: { message: 'unknown control operation "{op}"; known: {known}' },
  WG_ERR_CONTROL_TOO_MANY_CONNECTIONS: { message: 'the control socket has {limit} connections open already; try again once one closes' },
  WG_ERR_CONTROL_NOT_READY: { message: 'the daemon is {state}: {op} is not available now' },
  WG_ERR_CONTROL_FAILED: { message: 'control operation {op} failed in the daemon: {detail}' },
  // --- hot swap of a step's plugin (src/host/pipeline/swap-*.ts, docs/plugin-abi.md "Swapping") ---
  WG_ERR_SWAP_INCOMPATIBLE: { message: 'step {step} ({plugin}) of pipeline {pipeline} cannot be swapped in place: {detail}' },
  WG_ERR_SWAP_CANARY: { message: 'the new {plugin} of step {step} of pipeline {pipeline} failed its canary run; the old version stays live: {detail}' },
  WG_ERR_SWAP_FAILED: { message: 'swap of step {step} ({plugin}) of pipeline {pipeline} failed; the old version stays live: {detail}' },
  WG_ERR_SWAP_ROLLED_BACK: { message: 'step {step} of pipeline {pipeline} rolled back from {plugin} {version} to {previous}: {detail}' },
  WG_ERR_PLUGIN_NOT_GRANTED: { message: 'plugin {plugin} needs host import {import}, which is not granted: {detail}' },
  // --- plugin packages and the registry (src/host/packages/, docs/plugins.md) ---
  WG_ERR_PACKAGE_READ: { message: 'cannot read {file}: {detail}' },
  WG_ERR_PACKAGE_FORMAT: { message: '{file} is not a wasmgate plugin package: {detail}' },
  WG_ERR_PACKAGE_TAMPERED: { message: 'plugin package {file} was changed after it was made: {detail}' },
  WG_ERR_PACKAGE_UNSIGNED: { message: 'plugin package {file} is refused: {detail}' },
  WG_ERR_PACKAGE_UNTRUSTED_KEY: { message: 'plugin package {file} is signed by key {keyId}, which this gateway does not trust: {detail}' },
  WG_ERR_PACKAGE_KEY: { message: 'key file {file} cannot be used: {detail}' },
  WG_ERR_PACKAGE_KIND: { message: 'plugin package {file} declares kind {kind}, which its module is not: {detail}' },
  WG_ERR_PACKAGE_DOWNGRADE: { message: 'plugin {plugin} {version} is older than the active version {active}: refused; going back is wasmgate plugin rollback' },
  WG_ERR_PACKAGE_VERSION_REUSED: { message: 'plugin {plugin} {version} is installed already with other bytes: a changed plugin needs a new version' },
  WG_ERR_PACKAGE_SWAP_REFUSED: { message: 'plugin {plugin}: the running pipelines refused the new version, the previous one runs on: {detail}' },
  WG_ERR_PACKAGE_NOT_LIVE: { message: 'plugin {plugin} {version} did not go live, the previous version runs on: {detail}' },
  WG_ERR_REGISTRY_DAMAGED: { message: 'plugin registry {file} cannot be used: {detail}' },
  WG_ERR_REGISTRY_WRITE: { message: 'plugin registry {file} cannot be written: {detail}' },
  WG_ERR_ROLLBACK_NONE: { message: 'plugin {plugin} cannot be rolled back: {detail}' },
  WG_ERR_PACKAGE_ROLLED_BACK: { message: 'plugin {plugin} {version} was rolled back by this gateway for cause ({detail}): refused; install it again only with --force' },
  WG_ERR_ROLLBACK_UNTRUSTED: { message: 'plugin {plugin} cannot be rolled back to {version}: its stored package no longer passes this gateway\'s trust settings: {detail}' },
  WG_ERR_REGISTRY_LOCKED: { message: 'plugin registry lock {file} is held: {detail}' },
  WG_ERR_DROPIN_REFUSED: { message: 'drop-in file {file} refused: {detail}' },
  // --- fleet rollouts over MQTT (src/host/fleet/, docs/fleet.md) ---
  WG_ERR_FLEET_COMMAND: { message: 'fleet command {id} is refused: {detail}' },
  WG_ERR_FLEET_EXPIRED: { message: 'fleet command {id} expired at {expires}: not applied' },
  WG_ERR_FLEET_HASH: { message: 'fleet command {id}: the package has sha256 {actual}, the command names {expected}: not applied' },
  WG_ERR_FLEET_PACKAGE_SIZE: { message: 'fleet command {id}: the package is larger than fleet.max_package ({limit} bytes): {detail}' },
  WG_ERR_FLEET_FETCH: { message: 'fleet command {id}: the package cannot be fetched from {url}: {detail}' },
  WG_ERR_FLEET_MISMATCH: { message: 'fleet command {id} names {plugin} {version}, the package is {actual}: not applied' },
  WG_ERR_FLEET_BROKER: { message: 'cannot reach the fleet broker {url}: {detail}' },
  WG_ERR_FLEET_NO_STATUS: { message: 'gateway {gateway} sent no status for command {id} within {timeout}' },
  // --- reload (SIGHUP, wasmgate reload; docs/cli.md) ---
  WG_ERR_RELOAD_REFUSED: { message: 'reload of {file} refused: {detail}' },
  WG_ERR_RELOAD_FAILED: { message: 'reload of {file} failed, the previous pipelines run again: {detail}' },
  // --- metrics and health endpoint (src/host/metrics/, docs/metrics.md) ---
  WG_ERR_METRICS_LISTEN: { message: 'cannot serve metrics on {address}: {detail}' },
  // --- the service manager (src/host/service/, docs/service.md) ---
  WG_ERR_SERVICE_NOTIFY: { message: 'cannot notify the service manager on {socket}: {detail}' },
  WG_ERR_SERVICE_UNHEALTHY: { message: 'watchdog pings withheld: {detail}' },
  // --- outbox (the buffer between the pipelines and the uplinks) ---
  WG_ERR_OUTBOX_CORRUPT: { message: 'outbox file {file} is damaged ({detail}); moved aside to {movedTo}, starting a fresh one' },
  WG_ERR_OUTBOX_SEQ_UNREADABLE: { message: 'outbox seq reservation {file} cannot be read ({detail}); seqs continue from the outbox file alone' },
  WG_ERR_OUTBOX_SEQ_MARKER: { message: 'outbox seq-ahead marker {file} {detail}: it cannot be removed at a stop, so every start continues after the seq reservation, a gap each time' },
  WG_ERR_OUTBOX_DISK_FULL: { message: 'outbox file {file}: the disk is full, the batch was not accepted: {detail}' },
  WG_ERR_OUTBOX_READ_ONLY: { message: 'outbox file {file} cannot be written: {detail}' },
  WG_ERR_OUTBOX_STORAGE: { message: 'outbox file {file} failed: {detail}' },
  WG_ERR_OUTBOX_IN_USE: { message: 'outbox file {file} is held by another process, another gateway on the same data_dir: {detail}' },
  WG_ERR_OUTBOX_CLOSED: { message: 'outbox {detail} is closed' },
  WG_ERR_OUTBOX_MEMORY_FALLBACK: { message: 'durable outbox unavailable, buffering in memory (at most {maxBytes} bytes per uplink) until it works again: {detail}' },
  WG_ERR_OUTBOX_DURABLE_AGAIN: { message: 'durable outbox works again after {messages} message(s) buffered in memory' },
  // --- cli ---
  WG_ERR_CLI_USAGE: { message: '{detail}' },
  // --- commissioning through the daemon ---
  WG_ERR_CONTROL_NO_LINK: { message: '{detail}' },
  WG_ERR_CONTROL_BUSY: { message: '{detail}' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WgError extends CodedError<ErrorCode> {
  constructor(code: ErrorCode, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, ERROR_CODES[code], context, options);
  }
}

/** A wasmgate error of any layer (the HAL's `HalError` included), optionally of one code. */
export function isWgError(value: unknown, code?: ErrorCode): value is WgError {
  return value instanceof CodedError && Object.hasOwn(ERROR_CODES, value.code) && (code === undefined || value.code === code);
}
