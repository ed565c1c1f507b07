/**
 * Every default of the gateway and pipeline files, declared once. The static ones are written as an
 * operator would write them in YAML (so the unit is part of the value) and reach the data through the
 * schemas' `default` keyword, applied by ajv during validation: that is the one place they are applied.
 * The few defaults that depend on another setting are the functions at the end, called by the resolver.
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEFAULTS = {
  gateway: {
    dataDir: './data', // path, relative to the gateway file; see defaultDataDir: $STATE_DIRECTORY comes first
    logLevel: 'info',
    logFormat: 'json',
    // duration: how long an undelivered message waits in memory before it is written (deferred-outbox.ts)
    outboxCommitDelay: '50ms',
  },
  mqtt: {
    qos: 0, // MQTT QoS level
    keepalive: '30s', // duration; sent to the broker in whole seconds
    reconnectMin: '1s', // duration: first back-off after a lost connection
    reconnectMax: '30s', // duration: back-off ceiling
    rejectUnauthorized: true, // verify the broker's certificate
    // duration, with clean_session: false: a persistent session outlives a day-long outage (the outbox
    // keeps the messages anyway) and is gone for a gateway that was taken away, not kept for ever
    sessionExpiry: '24h',
  },
  pipeline: {
    batchMaxRecords: 256, // records per batch
    batchDeadline: '250ms', // duration: watchdog per batch
    ringIngress: '256KiB', // bytes; power of two. Polled frames are < 260 B; 64 KiB batches (a quarter)
    ringEgress: '256KiB', // bytes; power of two; the largest message is half: 128 KiB, AWS IoT's MQTT limit
    pluginMemory: '16MiB', // bytes: most linear memory one plugin instance may grow to
    swapCanaryDeadline: '1s', // duration: a swap's canary run on recent batches
    swapRollbackTraps: 3, // traps: more than this within the window after a swap roll back
    swapRollbackWindow: '30s', // duration
  },
  modbusDevice: {
    port: 502, // TCP port
    unitId: 1, // Modbus unit identifier
    interval: '1s', // duration between polls
    timeout: '1s', // duration: per request
    retries: 1, // extra attempts per request before its points go no-comm
    backoffMin: '500ms', // duration: first reconnect back-off
    backoffMax: '30s', // duration: reconnect back-off ceiling
    turnaround: '0ms', // duration: quiet time after a transaction with the device
    quarantineAfter: 3, // failed poll cycles in a row before the device is only probed
    inFlight: 1, // Modbus TCP transactions outstanding at once on one connection
  },
  modbusRtu: {
    // Modbus over Serial Line V1.02, 2.5.1: 19200 baud and even parity are the required defaults.
    baud: 19200,
    parity: 'even',
    dataBits: 8,
    stopBits: 1,
  },
  modbusPoint: {
    order: 'ABCD', // byte order of multi-register values, A = most significant byte
    unit: '', // engineering unit label; empty = none
    scale: 1, // factor applied by the decoder
    offset: 0, // added after scaling
    description: '',
    access: 'read', // whether the point may be written
  },
  bacnetDevice: {
    port: 47808, // UDP port, BACnet/IP's own (0xBAC0)
    interval: '5s', // duration between polls
    timeout: '3s', // duration: APDU timeout, per request (ASHRAE 135's default APDU_Timeout)
    retries: 3, // extra attempts per request (the default Number_Of_APDU_Retries)
    localPort: 0, // UDP port the gateway's socket for the device binds; 0: one the OS picks
    backoffMin: '500ms', // duration: first re-bind back-off
    backoffMax: '30s', // duration: re-bind back-off ceiling
    covConfirmed: false, // unconfirmed COV notifications: nothing to acknowledge, as most integrations run
    covProcessId: 1, // subscriber process identifier (Unsigned32)
  },
  coapServer: {
    bind: '0.0.0.0', // local address of the server's socket
    port: 5683, // UDP port, CoAP's own (RFC 7252, 12.6)
    rate: 100, // bodies a second the token bucket refills by
    burst: 200, // bodies the bucket holds
    queue: 256, // bodies waiting for room in the ingress ring
    maxBody: 1024, // bytes of one body, Block1 transfers included
    mediaTypes: ['text/plain', 'application/json', 'application/cbor'],
    blockTransfers: 16, // Block1 transfers in progress at once
    blockTimeout: '30s', // duration an unfinished Block1 transfer is kept
    exchanges: 1024, // message ids remembered for deduplication (RFC 7252, 4.5)
    backoffMin: '500ms', // duration: first re-bind back-off
    backoffMax: '30s', // duration: re-bind back-off ceiling
  },
  bacnetPoint: {
    property: 'present-value',
    unit: '', // si spelling or BACnet engineering unit name; empty = none
    access: 'read', // whether the point may be written (WriteProperty of its present-value)
    description: '',
  },
  step: {
    with: {}, // the plugin's own defaults fill the rest
  },
  publish: {
    topic: 'wasmgate/{gateway}/{pipeline}/{point}',
    retain: false,
  },
} as const;

/**
 * `gateway.data_dir` when not given: the state directory systemd made for the unit
 * (StateDirectory=wasmgate sets STATE_DIRECTORY=/var/lib/wasmgate; with several directories it is a
 * colon-separated list, and the first is taken), else DEFAULTS.gateway.dataDir next to the gateway
 * file. Under the unit's ProtectSystem=strict the gateway file's directory is read-only, so the plain
 * default could never hold the outbox there.
 */
export function defaultDataDir(gatewayDir: string, env: NodeJS.ProcessEnv = process.env): { path: string; from: 'STATE_DIRECTORY' | 'default' } {
  const state = env.STATE_DIRECTORY?.split(':')[0];
  return state ? { path: resolve(state), from: 'STATE_DIRECTORY' } : { path: resolve(gatewayDir, DEFAULTS.gateway.dataDir), from: 'default' };
}

/** File name of the control socket in its default directory. */
export const CONTROL_SOCKET_NAME = 'control.sock';

/**
 * `control.socket` when not given: in the runtime directory systemd made for the unit
 * (RuntimeDirectory=wasmgate sets RUNTIME_DIRECTORY=/run/wasmgate; with several directories it is a
 * colon-separated list, and the first is taken), else in the data directory.
 */
export function defaultControlSocket(dataDir: string, env: NodeJS.ProcessEnv = process.env): { path: string; from: 'RUNTIME_DIRECTORY' | 'gateway.data_dir' } {
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0];
  return runtime ? { path: join(runtime, CONTROL_SOCKET_NAME), from: 'RUNTIME_DIRECTORY' } : { path: join(dataDir, CONTROL_SOCKET_NAME), from: 'gateway.data_dir' };
}

/** MQTT client id when `client_id` is not given. */
export function defaultClientId(gatewayId: string): string {
  return `wasmgate-${gatewayId}`;
}

/** `publish.qos` when not given: the QoS of the uplink the pipeline publishes to. */
export function defaultPublishQos(uplinkQos: 0 | 1): 0 | 1 {
  return uplinkQos;
}

/**
 * `gateway.plugin_dirs` when not given: the `plugins/` directory of the wasmgate package itself, found
 * by walking up from this module to the package root (this file runs from `src/` or from `dist/src/`).
 */
export function defaultPluginDirs(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wasmgate') {
      return [join(dir, 'plugins')];
    }
    const parent = dirname(dir);
    if (parent === dir) return [];
    dir = parent;
  }
}
