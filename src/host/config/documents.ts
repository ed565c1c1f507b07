/**
 * The shapes of the gateway and pipeline files as they stand once the schema has accepted them and
 * filled in its static defaults: keys as written in YAML, units not yet converted, paths not yet
 * resolved. Only the cross checks and the resolver read these; everything else gets `Resolved*`.
 */
import type { MqttStatusDocument } from '../uplinks/mqtt-status-settings.js';
import type { OutboxDocument } from '../uplinks/outbox-settings.js';
import type { MetricsDocument } from '../metrics/metrics-settings.js';
import type { PluginsDocument } from '../packages/package-settings.js';
import type { Qos, LogFormat, LogLevel } from './resolved.js';
import type { ProfilesDocument } from '../sources/modbus-points.js';
export type { PointDocument } from '../sources/modbus-points.js';

/** A duration as written: `250ms`, `1.5s`, or a number of milliseconds. */
export type DurationText = string | number;
/** A size as written: `1MiB`, or a number of bytes. */
export type SizeText = string | number;

export interface BackoffDocument {
  min: DurationText;
  max: DurationText;
}

export interface GatewayDocument {
  gateway: {
    id: string;
    /** Absent: defaultDataDir. */
    data_dir?: string;
    log: { level: LogLevel; format: LogFormat };
    plugin_dirs?: string[];
  };
  /** One kind per uplink (src/host/uplinks): `mqtt`, `coap`. */
  uplinks: Record<string, { mqtt?: MqttDocument; coap?: unknown }>;
  pipelines: string[];
  /** Always present (the schema defaults it to `{}`). */
  control: { socket?: string | boolean };
  /** Always present (the schema defaults it to `{}`). */
  metrics: MetricsDocument;
  /** Always present (the schema defaults it to `{}`). */
  plugins: PluginsDocument;
}

export interface MqttDocument {
  url: string;
  client_id?: string;
  username?: string;
  password?: string;
  password_file?: string;
  password_env?: string;
  qos: Qos;
  keepalive: DurationText;
  reconnect: BackoffDocument;
  /** YAML reads `protocol: 5` as a number. */
  protocol: 'auto' | '3.1.1' | '5' | 5;
  clean_session: boolean;
  session_expiry?: DurationText;
  message_expiry?: DurationText;
  /** Always present (the schema defaults it to `{}`). */
  status: MqttStatusDocument;
  /** Always present (the schema defaults it to `{}`); whether it was written is asked of the source. */
  tls: { ca?: string; cert?: string; key?: string; reject_unauthorized: boolean };
  /** Always present (the schema defaults it to `{}`). */
  outbox: OutboxDocument;
}

export interface PipelineDocument {
  pipeline: {
    name: string;
    batch: { max_records: number; deadline: DurationText };
    ring: { ingress: SizeText; egress: SizeText };
    plugin_memory: SizeText;
  };
  profiles: ProfilesDocument;
  /** Keyed by source kind (src/host/sources/source-kinds.ts); each kind reads its own document. */
  source: Record<string, unknown>;
  steps: StepDocument[];
  publish: { uplink: string; topic: string; qos?: Qos; retain: boolean };
}

export interface StepDocument {
  plugin?: string;
  path?: string;
  with: Record<string, unknown>;
}
