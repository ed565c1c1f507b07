/**
 * The configuration as components receive it: complete (every default applied, nothing optional),
 * in fixed units (milliseconds, bytes), with absolute paths, deep-frozen. Nothing downstream reads
 * YAML or applies a default. Names ending in `Ms` are milliseconds, in `Bytes` bytes.
 */
import type { MqttStatusOptions } from '../sinks/mqtt-options.js';
import type { PluginKind, PluginManifest } from './plugin-manifest.js';
import type { POINT_TYPES, WORD_ORDERS, POINT_ACCESS } from '../sources/modbus-point-schema.js';
import type { SourceKindName } from '../sources/source-kinds.js';
import type { ResolvedMqttSubscription } from '../sources/mqtt-subscribe.js';
import type { ResolvedOutboxSettings } from '../uplinks/outbox-settings.js';
import type { ResolvedMetrics } from '../metrics/metrics-settings.js';
import type { ResolvedPluginSettings } from '../packages/package-settings.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { ResolvedFleet } from '../fleet/fleet-settings.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type Qos = 0 | 1;
export type PointType = (typeof POINT_TYPES)[number];
export type WordOrder = (typeof WORD_ORDERS)[number];
export type PointAccess = (typeof POINT_ACCESS)[number];
/** Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers. */
export type ModbusFunction = 1 | 2 | 3 | 4;
/** A JSON value, as a step's settings are. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface ResolvedGateway {
  /** Absolute path of the gateway file. */
  readonly file: string;
  readonly id: string;
  /** Absolute directory for the durable buffer and state. */
  readonly dataDir: string;
  /** How long an undelivered message waits before it is written to the outbox on disk; 0: every turn. */
  readonly outboxCommitDelayMs: number;
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  /** Absolute plugin directories, in lookup order. */
  readonly pluginDirs: readonly string[];
  /** In the order of the file. */
  readonly uplinks: readonly ResolvedUplink[];
  /** In the order of the gateway file's `pipelines:` list. */
  readonly pipelines: readonly ResolvedPipeline[];
  readonly control: ResolvedControl;
  /** The metrics and health endpoint; null: off. */
  readonly metrics: ResolvedMetrics | null;
  /** Packages an install accepts, and the host functions plugins may import. */
  readonly plugins: ResolvedPluginSettings;
  /** Rollout commands over MQTT (docs/fleet.md); null: no `fleet:` block, no fleet client. */
  readonly fleet: ResolvedFleet | null;
}

export interface ResolvedControl {
  /** Absolute path of the control socket; null when `control.socket: false` turned it off. */
  readonly socket: string | null;
  /** Where the path came from: the setting, or which default (config.md, `control`). */
  readonly socketFrom: 'control.socket' | 'RUNTIME_DIRECTORY' | 'gateway.data_dir' | null;
}

export type ResolvedUplink = ResolvedMqttUplink | ResolvedCoapUplink;

export interface ResolvedCoapUplink {
  readonly name: string;
  readonly transport: 'coap';
  /** As written. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The URI's path segments, decoded; each message's topic levels follow them. */
  readonly path: readonly string[];
  readonly method: 'POST' | 'PUT';
  /** 1: confirmable requests; 0: non-confirmable. */
  readonly qos: Qos;
  /** Block1 size, bytes (16 to 1024, a power of two). */
  readonly blockSize: number;
  readonly inFlight: number;
  readonly maxRetransmit: number;
  readonly reconnect: ResolvedBackoff;
  readonly outbox: ResolvedOutboxSettings;
}

export interface ResolvedMqttUplink {
  readonly name: string;
  readonly transport: 'mqtt';
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL as written. */
  readonly url: string;
  readonly clientId: string;
  readonly username: string | null;
  /** From `password` or read from `password_file` at load (one trailing newline removed). */
  readonly password: string | null;
  /** Default QoS of pipelines that publish here without their own. */
  readonly qos: Qos;
  /** A whole number of seconds, expressed in ms. */
  readonly keepaliveMs: number;
  readonly reconnect: ResolvedBackoff;
  /** Present exactly when the URL is `mqtts://` or `wss://`. */
  readonly tls: ResolvedTls | null;
  /** `auto`: MQTT 5, or 3.1.1 once the broker refuses 5. */
  readonly protocol: 'auto' | '3.1.1' | '5';
  readonly cleanSession: boolean;
  /** MQTT 5 session expiry, whole seconds in ms; null with a clean session. */
  readonly sessionExpiryMs: number | null;
  /** MQTT 5 message expiry from each message's creation, whole seconds in ms; null: none. */
  readonly messageExpiryMs: number | null;
  /** Topic and words of the retained status and last will, placeholders filled in; null: none. */
  readonly status: MqttStatusOptions | null;
  readonly outbox: ResolvedOutboxSettings;
}

export interface ResolvedTls {
  /** Absolute paths of PEM files, checked readable at load; null when not given. */
  readonly ca: string | null;
  readonly cert: string | null;
  readonly key: string | null;
  readonly rejectUnauthorized: boolean;
}

export interface ResolvedBackoff {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface ResolvedPipeline {
  readonly name: string;
  /** Absolute path of the pipeline file. */
  readonly file: string;
  readonly batch: { readonly maxRecords: number; readonly deadlineMs: number };
  /** Ring sizes in bytes, each a power of two. */
  readonly ring: { readonly ingressBytes: number; readonly egressBytes: number };
  /** Most linear memory one plugin instance may grow to, bytes (the engine lowers each module's maximum to it). */
  readonly pluginMemoryBytes: number;
  /** Swapping a step in the running pipeline (docs/plugin-abi.md, Swapping): canary deadline, crash-loop rollback. */
  readonly swap: { readonly canaryDeadlineMs: number; readonly rollbackTraps: number; readonly rollbackWindowMs: number };
  readonly source: ResolvedSource;
  /** Every point of every device, in file order; `points[i].id === i` (the ABI's point id). */
  readonly points: readonly ResolvedPoint[];
  /** In file order; `steps[i].index === i`. The first is a decoder, the last an encoder. */
  readonly steps: readonly ResolvedStep[];
  /** Its local rules, checked (docs/rules.md); none when it declares none. */
  readonly rules: RuleSet;
  readonly publish: ResolvedPublish;
}

/**
 * What the pipeline reads from: every device of every source kind, and the links they are reached over.
 * A link (a TCP connection, a serial bus, a TCP connection to a serial device server) is served by one
 * arbiter; a device never owns its transport.
 */
export interface ResolvedSource {
  /** The source kinds written under `source:`, in file order. */
  readonly kinds: readonly SourceKindName[];
  /** In file order (kinds in the order written, then their links); `links[i].index === i`. */
  readonly links: readonly ResolvedLink[];
  /** In file order (kinds, then links, then devices); `devices[i].index === i` (the ABI's device index). */
  readonly devices: readonly ResolvedDevice[];
}

/** How request and response frames are delimited on a link: the decoder learns it per device. */
/** `push`: a push source's devices send bodies, not frames of a protocol (ABI 1.5 pushed frames). */
export type Framing = 'tcp' | 'rtu' | 'bacnet_ip' | 'push';

export interface ResolvedLinkBase {
  readonly index: number;
  /** Where it is written in the pipeline file (the bus; a Modbus TCP connection's first device), for problems found across pipelines. */
  readonly at: readonly (string | number)[];
  /** The bus or connection name as written; for an unshared Modbus TCP connection, the device's name. */
  readonly name: string;
  readonly kind: SourceKindName;
  readonly framing: Framing;
  /** Indexes of the devices served over it, in file order. */
  readonly devices: readonly number[];
  /** Transactions that may be outstanding at once: 1 on a bus; Modbus TCP may allow more. */
  readonly inFlight: number;
  /** Silence kept between the end of one transaction and the next request, ms (RTU: 3.5 characters). */
  readonly silenceMs: number;
  /** Longest frame a device may send (Modbus TCP 260 bytes, RTU 256). */
  readonly maxFrameBytes: number;
  readonly connectTimeoutMs: number;
  readonly backoff: ResolvedBackoff;
}

export interface ResolvedTcpLink extends ResolvedLinkBase {
  readonly transport: 'tcp';
  readonly host: string;
  readonly port: number;
}

export type Parity = 'none' | 'even' | 'odd';

export interface ResolvedRs485 {
  readonly rtsOnSend: boolean;
  readonly rtsAfterSend: boolean;
  readonly delayBeforeSendMs: number;
  readonly delayAfterSendMs: number;
  readonly rxDuringTx: boolean;
}

export interface ResolvedSerialLink extends ResolvedLinkBase {
  readonly transport: 'serial';
  /** Absolute device path, as written (`/dev/ttyUSB0`, `/dev/serial/by-id/...`). */
  readonly path: string;
  readonly baudRate: number;
  readonly parity: Parity;
  readonly dataBits: 7 | 8;
  readonly stopBits: 1 | 2;
  /** RS-485 mode asked of the port driver; null leaves the port as the OS has it. */
  readonly rs485: ResolvedRs485 | null;
}

/** A UDP socket of the gateway's, connected to one device (BACnet/IP). */
export interface ResolvedUdpLink extends ResolvedLinkBase {
  readonly transport: 'udp';
  readonly host: string;
  readonly port: number;
  /** Local port the socket binds; 0: one the OS picks. */
  readonly bindPort: number;
}

/**
 * A push source's listener (coap_server; mqtt_subscribe): its devices send to it and nothing is
 * polled (sources/push-source.ts). Each push kind carries its own settings in a member named after
 * it, read only by its listener.
 */
export interface ResolvedPushLink extends ResolvedLinkBase {
  readonly transport: 'push';
  /** Where it listens or subscribes, for status and logs: `udp 0.0.0.0:5683`. */
  readonly endpoint: string;
  /** The token bucket and waiting limit every push source has (sources/push-gate.ts). */
  readonly limits: { readonly ratePerSecond: number; readonly burst: number; readonly maxWaiting: number };
  /** The largest body it takes, bytes (the ring's record limit may lower it further). */
  readonly maxBodyBytes: number;
  /** coap_server: its socket and resources. */
  readonly coap?: ResolvedCoapServer;
  /** mqtt_subscribe: its broker connection and topic patterns. */
  readonly mqtt?: ResolvedMqttSubscription;
}

/** A coap_server source's socket and resources. */
export interface ResolvedCoapServer {
  readonly bindAddress: string;
  readonly port: number;
  /** Each configured resource path (no leading slash, segments joined by `/`) and what it maps to. */
  readonly resources: readonly ResolvedPushResource[];
  /** Media types bodies may declare (CoAP Content-Format names); a body that declares none is always taken. */
  readonly mediaTypes: readonly string[];
  /** Most Block1 transfers in progress at once, and how long an unfinished one is kept, ms. */
  readonly maxBlockTransfers: number;
  readonly blockTimeoutMs: number;
  /** Most remembered message ids (node-coap's deduplication cache), and how long each is kept, ms. */
  readonly maxCachedMessages: number;
}

/** A resource a device pushes to, and the device (and point, when it names one) it maps to. */
export interface ResolvedPushResource {
  readonly path: string;
  readonly device: number;
  /** The point id; null when the resource stands for the whole device (the body names its points). */
  readonly point: number | null;
}

export type ResolvedLink = ResolvedTcpLink | ResolvedSerialLink | ResolvedUdpLink | ResolvedPushLink;

export interface ResolvedDevice {
  readonly index: number;
  /** Where it is written in the pipeline file, for problems found across pipelines. */
  readonly at: readonly (string | number)[];
  readonly name: string;
  readonly kind: SourceKindName;
  /** Index of its link in the pipeline's `source.links`. */
  readonly link: number;
  readonly framing: Framing;
  /** Where the device is, for the operator: `10.0.0.5:502`, `/dev/ttyUSB0`. */
  readonly address: string;
  readonly unitId: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Extra attempts per request before the request's points go no-comm. */
  readonly retries: number;
  /** Quiet time the link keeps after a transaction with this device before the next request, ms. */
  readonly turnaroundMs: number;
  /** Failed poll cycles in a row after which the device is quarantined (polled by a probe only). */
  readonly quarantineAfter: number;
  /** This device's points (the same objects as in the pipeline's `points`). */
  readonly points: readonly ResolvedPoint[];
  /** A BACnet device's identity and what it serves; null for every other kind. */
  readonly bacnet: ResolvedBacnetDevice | null;
}

export interface ResolvedBacnetDevice {
  /** Its device object's instance number (0 to 4194302). */
  readonly deviceInstance: number;
  /** Whether it serves ReadPropertyMultiple (else one ReadProperty per point). */
  readonly readMultiple: boolean;
  /** Its points' objects are subscribed to by SubscribeCOV (`cov:`); null: polled only. */
  readonly cov: ResolvedCov | null;
}

/** A BACnet device's COV subscriptions (ASHRAE 135, 13.14): what each SubscribeCOV asks for. */
export interface ResolvedCov {
  /** Lifetime asked for, whole seconds; renewed at half of it. */
  readonly lifetimeS: number;
  /** ConfirmedCOVNotification (acknowledged by the gateway) rather than unconfirmed. */
  readonly confirmed: boolean;
  /** While subscribed, a poll this often anyway, ms; null: no polls while subscribed. */
  readonly refreshMs: number | null;
  /** The subscriber process identifier sent (Unsigned32). */
  readonly processId: number;
}

export type ResolvedPoint = ResolvedModbusPoint | ResolvedBacnetPoint | ResolvedPushPoint;

/** A point of a push source's device: read from the bodies the device sends (the payload decoder). */
export interface ResolvedPushPoint {
  readonly protocol: 'push';
  readonly id: number;
  readonly name: string;
  readonly device: number;
  /** The resource that stands for this point alone, when it has one (`sensors/t1`); null: only in its device's bodies. */
  readonly resource: string | null;
  readonly unit: string;
  readonly description: string;
  readonly access: PointAccess;
}

/** A point of a BACnet device: one property of one of its objects. */
export interface ResolvedBacnetPoint {
  readonly protocol: 'bacnet';
  readonly id: number;
  readonly name: string;
  readonly device: number;
  /** BACnetObjectType number, and the name it was written with (or its number as text). */
  readonly objectType: number;
  readonly objectTypeName: string;
  readonly instance: number;
  /** BACnetPropertyIdentifier number, and its name as written. */
  readonly property: number;
  readonly propertyName: string;
  /** Unit as si spells it (a BACnet engineering unit name is turned into it at load); empty for none. */
  readonly unit: string;
  readonly description: string;
  /** Whether the point may be written: WriteProperty of its present-value (an output or value object only). */
  readonly access: PointAccess;
  /** The priority (1 to 16) its writes command and its relinquish empties; null: none sent (the device takes 16). */
  readonly writePriority: number | null;
}

export interface ResolvedModbusPoint {
  readonly protocol: 'modbus';
  /** Index into the pipeline's `points`: the point id in samples. */
  readonly id: number;
  readonly name: string;
  /** Index of the device in the pipeline's `source.devices`. */
  readonly device: number;
  readonly function: ModbusFunction;
  readonly address: number;
  readonly type: PointType;
  readonly order: WordOrder;
  /** Registers holding the text, as declared: type string only; null for every other type. */
  readonly length: number | null;
  /** What one read of the point takes: registers (functions 3/4: 1, 2 or 4 by type, `length` for strings), or 1 bit (functions 1/2). */
  readonly registers: number;
  /** Bit of the register for a bool on function 3/4; null otherwise. */
  readonly bit: number | null;
  /** Engineering unit label; empty for none. */
  readonly unit: string;
  readonly scale: number;
  readonly offset: number;
  readonly description: string;
  /** Whether the point may be written (`wasmgate write`, rules later); reads never depend on it. */
  readonly access: PointAccess;
  /** Function a write uses, when the point names one (5 or 15 for coils, 6 or 16 for registers); null: the decoder's choice. */
  readonly writeFunction: WriteFunction | null;
}

export type WriteFunction = 5 | 6 | 15 | 16;

export interface ResolvedStep {
  readonly index: number;
  /** Plugin name (the manifest's). */
  readonly plugin: string;
  readonly kind: PluginKind;
  readonly manifest: PluginManifest;
  /** Absolute path of the module. */
  readonly wasmPath: string;
  /** The step's settings, checked against the manifest, its defaults applied. */
  readonly with: { readonly [key: string]: JsonValue };
}

export interface ResolvedPublish {
  /** Name of an uplink of the gateway. */
  readonly uplink: string;
  /** Template with `{gateway}`, `{pipeline}`, `{device}`, `{point}`. */
  readonly topic: string;
  readonly qos: Qos;
  readonly retain: boolean;
}
