/**
 * The one registry of wasmgate error codes. Every error the host raises or reports is a `WgError`
 * carrying a stable `WG_ERR_<AREA>_<WHAT>` code and the domain context it concerns (file, device,
 * point, pipeline, step, plugin...). Callers branch on `code`, never on message text.
 *
 * Rules: every code here is documented in docs/errors.md (a test enforces both directions); a code
 * that is retired is never reused; messages are templates filled from the context.
 */

export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  setting?: string;
  pipeline?: string;
  step?: number;
  plugin?: string;
  device?: string;
  point?: string;
  uplink?: string;
  detail?: string;
  [key: string]: unknown;
}

interface CodeSpec {
  /** Message template; `{name}` is replaced by the context field of that name. */
  message: string;
}

export const ERROR_CODES = {
  // --- config ---
  WG_ERR_CONFIG_READ: { message: 'cannot read config file {file}: {detail}' },
  WG_ERR_CONFIG_SYNTAX: { message: 'YAML syntax error: {detail}' },
  WG_ERR_CONFIG_TOO_LARGE: { message: 'config file too large: {detail}' },
  WG_ERR_CONFIG_INVALID: { message: '{detail}' },
  WG_ERR_CONFIG_CONFLICT: { message: '{detail}' },
  WG_ERR_CONFIG_PIPELINE_MISSING: { message: 'pipeline file {detail} not found' },
  WG_ERR_CONFIG_UNKNOWN_UPLINK: { message: 'uplink "{uplink}" is not defined in the gateway file' },
  WG_ERR_CONFIG_UNKNOWN_PLUGIN: { message: 'plugin "{plugin}" not found: {detail}' },
  WG_ERR_CONFIG_PLUGIN_SETTINGS: { message: 'plugin "{plugin}" setting {setting}: {detail}' },
  WG_ERR_CONFIG_DUPLICATE_NAME: { message: '{kind} name "{name}" is already used at {detail}' },
  WG_ERR_CONFIG_UNKNOWN_PLACEHOLDER: { message: 'topic placeholder "{detail}" is unknown; known: {known}' },
  WG_ERR_CONFIG_FILE_UNREADABLE: { message: 'cannot read {target}: {detail}' },
  // --- plugin / engine ---
  WG_ERR_PLUGIN_ABI: { message: 'plugin {plugin} ({file}) does not follow the wasmgate ABI: {detail}' },
  WG_ERR_PLUGIN_COMPILE: { message: 'plugin {plugin} ({file}) is not a valid WebAssembly module: {detail}' },
  WG_ERR_PLUGIN_INSTANTIATE: { message: 'plugin {plugin} failed to instantiate: {detail}' },
  WG_ERR_PLUGIN_CONFIGURE: { message: 'plugin {plugin} rejected its settings: {detail}' },
  WG_ERR_PLUGIN_TRAP: { message: 'plugin {plugin} trapped in {detail}' },
  WG_ERR_PLUGIN_STATUS: { message: 'plugin {plugin} returned error status {detail}' },
  WG_ERR_PLUGIN_TIMEOUT: { message: 'plugin {plugin} ran past the batch deadline; worker restarted' },
  WG_ERR_PLUGIN_MANIFEST: { message: 'plugin manifest {file} is invalid: {detail}' },
  WG_ERR_PLUGIN_BUILD: { message: 'building plugin {plugin} failed: {detail}' },
  // --- pipeline worker ---
  WG_ERR_WORKER_CRASHED: { message: 'pipeline {pipeline} worker exited unexpectedly: {detail}' },
  WG_ERR_WORKER_RESTART_FAILED: { message: 'pipeline {pipeline} worker could not be restarted: {detail}' },
  // --- ring ---
  WG_ERR_RING_RECORD_TOO_LARGE: { message: 'record of {detail} bytes does not fit the ring' },
  WG_ERR_RING_CAPACITY: { message: 'ring capacity {detail} is not a power of two from 64 bytes to 1 GiB' },
  WG_ERR_RING_NOT_A_RING: { message: 'shared buffer is not a wasmgate ring: {detail}' },
  WG_ERR_RING_BAD_RELEASE: { message: 'cannot release the ring up to position {detail}: not a record boundary between the tail and the head' },
  WG_ERR_RING_MAIN_THREAD_WAIT: { message: 'blocking ring wait ({detail}) called on the main thread; use the async variant' },
  // --- demo PLC simulator ---
  WG_ERR_DEMO_PLC_REGISTER: { message: 'demo PLC simulator {table} {address}: {detail}' },
  WG_ERR_DEMO_PLC_LISTEN: { message: 'demo PLC simulator cannot listen on {detail}' },
  // --- HAL / devices ---
  WG_ERR_HAL_CLOSED: { message: 'transport closed by us' },
  WG_ERR_HAL_LINK_LOST: { message: 'link to {device} lost: {detail}' },
  WG_ERR_HAL_CONNECT: { message: 'cannot connect to {device}: {detail}' },
  WG_ERR_HAL_TIMEOUT: { message: 'no answer from {device} within {detail}' },
  WG_ERR_DEVICE_FRAMING: { message: 'device {device} sent bytes that do not frame: {detail}' },
  // --- uplinks / sinks ---
  WG_ERR_UPLINK_CONNECT: { message: 'uplink {uplink} cannot connect: {detail}' },
  WG_ERR_UPLINK_PUBLISH: { message: 'uplink {uplink} publish failed: {detail}' },
  WG_ERR_UPLINK_BROKER_LISTEN: { message: 'embedded MQTT broker cannot listen on {detail}' },
  // --- cli ---
  WG_ERR_CLI_USAGE: { message: '{detail}' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

function render(template: string, context: ErrorContext): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = context[key];
    return value === undefined ? `<${key}?>` : String(value);
  });
}

export class WgError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(render(ERROR_CODES[code].message, context), options);
    this.name = 'WgError';
    this.code = code;
    this.context = context;
  }

  /** A one-line rendering that leads with the position when there is one: `file:line:col setting: msg`. */
  override toString(): string {
    const c = this.context;
    const where = c.file !== undefined && c.line !== undefined ? `${c.file}:${c.line}:${c.column ?? 1} ` : '';
    const setting = c.setting ? `${c.setting}: ` : '';
    return `${where}${setting}${this.message} [${this.code}]`;
  }
}

export function isWgError(value: unknown, code?: ErrorCode): value is WgError {
  return value instanceof WgError && (code === undefined || value.code === code);
}
