/**
 * The configuration as components receive it: complete (every default applied, nothing optional),
 * in fixed units (milliseconds, bytes), with absolute paths, deep-frozen. Nothing downstream reads
 * YAML or applies a default. Names ending in `Ms` are milliseconds, in `Bytes` bytes.
 */
import type { PluginKind, PluginManifest } from './plugin-manifest.js';
import type { POINT_TYPES, WORD_ORDERS } from './pipeline-schema.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type Qos = 0 | 1;
export type PointType = (typeof POINT_TYPES)[number];
export type WordOrder = (typeof WORD_ORDERS)[number];
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
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  /** Absolute plugin directories, in lookup order. */
  readonly pluginDirs: readonly string[];
  /** In the order of the file. */
  readonly uplinks: readonly ResolvedUplink[];
  /** In the order of the gateway file's `pipelines:` list. */
  readonly pipelines: readonly ResolvedPipeline[];
}

export type ResolvedUplink = ResolvedMqttUplink;

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
  readonly source: ResolvedModbusTcpSource;
  /** Every point of every device, in file order; `points[i].id === i` (the ABI's point id). */
  readonly points: readonly ResolvedPoint[];
  /** In file order; `steps[i].index === i`. The first is a decoder, the last an encoder. */
  readonly steps: readonly ResolvedStep[];
  readonly publish: ResolvedPublish;
}

export interface ResolvedModbusTcpSource {
  readonly protocol: 'modbus_tcp';
  /** In file order; `devices[i].index === i`. */
  readonly devices: readonly ResolvedDevice[];
}

export interface ResolvedDevice {
  readonly index: number;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Extra attempts per request before the request's points go no-comm. */
  readonly retries: number;
  readonly backoff: ResolvedBackoff;
  /** This device's points (the same objects as in the pipeline's `points`). */
  readonly points: readonly ResolvedPoint[];
}

export interface ResolvedPoint {
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
  /** Who may write the point: "read" (the default) refuses every write. Absent until config sets it. */
  readonly access?: PointAccess;
  /** The function a write uses (5 or 15 for a coil, 6 or 16 for registers); absent or null: chosen by type. */
  readonly writeFunction?: WriteFunction | null;
}

export type PointAccess = 'read' | 'write' | 'read_write';
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
