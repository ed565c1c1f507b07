/**
 * Configuration of the gateway: loading and checking the gateway file, its pipeline files and the
 * plugin manifests they use (every problem at once, positioned), and the resolved, frozen values the
 * rest of the host is built from. See docs/config.md.
 */
export { loadGatewayConfig, type LoadResult } from './load.js';
export { formatHint, formatProblem, type ConfigHint, type ConfigProblem } from './problem.js';
export type {
  ResolvedGateway,
  ResolvedPipeline,
  ResolvedDevice,
  ResolvedPoint,
  ResolvedStep,
  ResolvedUplink,
  ResolvedMqttUplink,
  ResolvedTls,
  ResolvedBackoff,
  ResolvedPublish,
  ResolvedSource,
  ResolvedLink,
  ResolvedTcpLink,
  ResolvedSerialLink,
  Framing,
  PointAccess,
  LogLevel,
  LogFormat,
  Qos,
  PointType,
  WordOrder,
  ModbusFunction,
  JsonValue,
} from './resolved.js';
export {
  loadPluginManifest,
  loadPluginManifestFile,
  type PluginManifest,
  type InstalledPlugin,
  type PluginKind,
  type ManifestResult,
  type JsonSchema,
} from './plugin-manifest.js';
export { PluginCatalog, MANIFEST_SUFFIX, type PluginLookup } from './plugin-catalog.js';
export { TOPIC_PLACEHOLDERS, renderTopic, type TopicPlaceholder } from './topic-template.js';
export { parseDuration, parseSize, type Conversion } from './units.js';
export { DEFAULTS } from './defaults.js';
