/**
 * `wasmgate scan bacnet`: Who-Is to one device's address or a broadcast address (optionally a device
 * instance range), then each answering device's objects with their names, present values, units and
 * descriptions (commission/bacnet-scan.ts, run in a worker by bacnet-scan-run.ts), as text grouped by
 * device, as one JSON document (--json), or as a pipeline file (--pipeline-yaml,
 * commission/bacnet-scan-pipeline.ts).
 *
 * Never through the daemon: the scan binds a UDP port of its own (the OS picks one unless
 * --local-port says), and devices answer the port a request came from, so a running daemon's polls
 * and the scan's requests do not meet; on a BACnet/IP network every client may talk to every device.
 */
import { isIP } from 'node:net';
import { parseDuration } from '../config/units.js';
import { WgError } from '../errors.js';
import { hostPort } from '../commission/commission-target.js';
import type { BacnetScanRequest, BacnetScanResult, ScannedDevice, ScannedObject } from '../commission/bacnet-scan.js';
import { pipelineYaml } from '../commission/bacnet-scan-pipeline.js';
import { macText, SEGMENTATION, typeName, unitsOf } from '../commission/bacnet-scan-names.js';

export interface ScanBacnetOptions {
  target?: string;
  port: string;
  low?: string;
  high?: string;
  timeout: string;
  retries: string;
  maxDevices: string;
  maxObjects: string;
  localPort: string;
  broadcast?: boolean;
  /** commander's --local: the Who-Is stays on the IP network. */
  local?: boolean;
  json?: boolean;
  pipelineYaml?: boolean;
}

const MAX_INSTANCE = 4194303;

function whole(text: string, min: number, max: number, option: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new WgError('WG_ERR_CLI_USAGE', { detail: `${option} ${text}: a whole number from ${min} to ${max}` });
  return n;
}

/** The options as a scan request; a wrong one is a usage error that names it. */
export function scanRequest(o: ScanBacnetOptions): BacnetScanRequest {
  if (o.target === undefined) throw new WgError('WG_ERR_CLI_USAGE', { detail: '--target <host[:port]|broadcast-address> is required: a device\'s address, or the broadcast address of its network' });
  if (o.json && o.pipelineYaml) throw new WgError('WG_ERR_CLI_USAGE', { detail: 'give --json or --pipeline-yaml, not both' });
  const { host, port } = hostPort(o.target, whole(o.port, 1, 65535, '--port'), '--target');
  if (isIP(host) === 6) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--target ${o.target}: BACnet/IP runs over IPv4 (Annex J); BACnet/IPv6 (Annex U) is not supported` });
  if ((o.low === undefined) !== (o.high === undefined)) throw new WgError('WG_ERR_CLI_USAGE', { detail: '--low and --high go together: the device instance range a Who-Is asks' });
  let range: { low: number; high: number } | undefined;
  if (o.low !== undefined && o.high !== undefined) {
    range = { low: whole(o.low, 0, MAX_INSTANCE, '--low'), high: whole(o.high, 0, MAX_INSTANCE, '--high') };
    if (range.low > range.high) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--low ${range.low} is above --high ${range.high}` });
  }
  const timeout = parseDuration(/^\d+$/.test(o.timeout) ? Number(o.timeout) : o.timeout);
  if (!timeout.ok || timeout.value === 0 || timeout.value > 60_000) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--timeout ${o.timeout}: a duration such as 500ms or 2s, at most 60s` });
  return {
    host,
    port,
    broadcast: o.broadcast === true || isBroadcast(host),
    global: o.local !== true,
    ...(range ? { range } : {}),
    timeoutMs: timeout.value,
    retries: whole(o.retries, 0, 10, '--retries'),
    maxDevices: whole(o.maxDevices, 1, 10_000, '--max-devices'),
    maxObjects: whole(o.maxObjects, 1, 100_000, '--max-objects'),
    localPort: whole(o.localPort, 0, 65535, '--local-port'),
  };
}

/** 255.255.255.255, or an IPv4 address ending in .255 (the broadcast address of a /24 or longer prefix). */
function isBroadcast(host: string): boolean {
  return isIP(host) === 4 && host.endsWith('.255');
}

export async function runScanBacnet(o: ScanBacnetOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const request = scanRequest(o);
  const { scanInWorker } = await import('../commission/bacnet-scan-run.js');
  const result = await scanInWorker(request);
  if (o.json) out(terminalSafe(JSON.stringify(jsonReport(request, result))));
  else if (o.pipelineYaml) {
    const yaml = pipelineYaml(request, result);
    out(yaml.text);
    if (yaml.skipped.length > 0) err(`left out of the pipeline: ${yaml.skipped.join(', ')}`);
  } else for (const line of textReport(request, result)) out(line);
  return result.devices.length > 0 ? 0 : 1;
}

function jsonReport(request: BacnetScanRequest, result: BacnetScanResult): unknown {
  return {
    target: `${request.host}:${request.port}`,
    broadcast: request.broadcast,
    range: request.range ?? null,
    devicesTruncated: result.devicesTruncated,
    duplicates: result.duplicates.map((d) => ({ instance: d.instance, address: d.address, port: d.port, route: d.route ? { network: d.route.network, mac: macText(d.route.mac) } : null })),
    devices: result.devices.map((d) => ({
      instance: d.instance,
      address: d.address,
      port: d.port,
      route: d.route ? { network: d.route.network, mac: macText(d.route.mac) } : null,
      name: d.name ?? null,
      vendor: d.vendor,
      maxApdu: d.maxApdu,
      segmentation: SEGMENTATION[d.segmentation] ?? d.segmentation,
      objectCount: d.objectCount ?? null,
      objectListRead: d.objectListRead ?? null,
      propertiesRead: d.propertiesRead ?? null,
      truncated: d.truncated === true,
      unreadable: d.unreadable ?? null,
      objects: d.objects.map((x) => ({
        type: typeName(x.objectType),
        typeNumber: x.objectType,
        instance: x.instance,
        name: x.name ?? null,
        presentValue: x.presentValue === undefined ? null : presentJson(x.presentValue),
        units: x.units === undefined ? null : unitsOf(x.units),
        description: x.description ?? null,
        problems: x.problems ?? [],
      })),
    })),
  };
}

function presentJson(v: ScannedObject['presentValue']): unknown {
  return typeof v === 'number' ? shortest(v) : v;
}

/**
 * A REAL is a float32: 68.4 arrives as 68.40000152587891. The shortest decimal that is the same
 * float32, where the value is one; a double as it is.
 */
function shortest(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v) || Math.fround(v) !== v) return v;
  for (let digits = 1; digits <= 9; digits++) {
    const s = Number(v.toPrecision(digits));
    if (Math.fround(s) === v) return s;
  }
  return v;
}

function textReport(request: BacnetScanRequest, result: BacnetScanResult): string[] {
  const range = request.range ? `, device instances ${request.range.low}..${request.range.high}` : '';
  const lines = [`Who-Is to ${request.host}:${request.port}${request.broadcast ? ' (broadcast)' : ''}${range}: ${result.devices.length} device${result.devices.length === 1 ? '' : 's'} answered${result.devicesTruncated ? ` (more did; --max-devices ${request.maxDevices} read)` : ''}`];
  for (const d of result.devices) {
    const name = d.name !== undefined ? ` ${quoted(d.name)}` : '';
    const via = d.route ? ` via network ${d.route.network} MAC ${macText(d.route.mac)}` : '';
    const head = `device ${d.instance}${name} at ${d.address}:${d.port}${via}, vendor ${d.vendor}, max APDU ${d.maxApdu}, ${SEGMENTATION[d.segmentation] ?? `segmentation ${d.segmentation}`}`;
    if (d.unreadable !== undefined && d.objects.length === 0) {
      lines.push(`${head}: ${d.unreadable}`);
      continue;
    }
    const listed = d.objectCount !== undefined ? `; object-list of ${d.objectCount}, read ${d.objectListRead}` : '';
    const properties = d.propertiesRead ? `; properties by ${d.propertiesRead}` : '';
    lines.push(`${head}${listed}${properties}${d.truncated ? `; first ${request.maxObjects} objects read (--max-objects)` : ''}`);
    lines.push(...objectTable(d));
    if (d.unreadable !== undefined) lines.push(`  then ${d.unreadable}`);
  }
  for (const d of result.duplicates) {
    const via = d.route ? ` via network ${d.route.network} MAC ${macText(d.route.mac)}` : '';
    lines.push(`device instance ${d.instance} answered from ${d.address}:${d.port}${via} too: a device instance must be unique on a BACnet internetwork (not read)`);
  }
  return lines;
}

function objectTable(d: ScannedDevice): string[] {
  const rows = d.objects.map((x) => [
    `${typeName(x.objectType)} ${x.instance}`,
    x.name !== undefined ? shownName(x.name) : '-',
    valueText(x),
    x.description ? quoted(x.description) : '',
    (x.problems ?? []).join('; '),
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).filter((cell) => cell.trim() !== '').join('  ')}`.trimEnd());
}

function valueText(x: ScannedObject): string {
  const v = x.presentValue;
  let text: string;
  if (v === undefined) text = '-';
  else if (v === null) text = '(a value the scan does not show)';
  else if (typeof v === 'boolean') text = v ? 'active' : 'inactive';
  else text = typeof v === 'number' ? String(shortest(v)) : quoted(v);
  if (x.units === undefined) return text;
  const u = unitsOf(x.units);
  if (u.bacnet === undefined) return `${text} (units ${u.number})`;
  return u.si ? `${text} ${u.si} (${u.bacnet})` : `${text} (${u.bacnet})`;
}


/**
 * What JSON.stringify leaves raw that a terminal acts on: DEL, the 8-bit controls (U+009B is CSI,
 * an escape sequence's start without ESC) and the bidirectional marks, overrides and isolates that
 * make a terminal show text reversed. A device names its objects as it likes (a CharacterString), and
 * the scan's output is read on a terminal; escaped, the JSON means the same.
 */
const TERMINAL_UNSAFE = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** C0 controls too: what a name must not hold to be shown unquoted. */
const UNSAFE_IN_NAME = /[\u0000-\u001f"\\\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/;

function terminalSafe(json: string): string {
  return json.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A device's text in quotes, every character a terminal acts on escaped as JSON escapes it. */
function quoted(text: string): string {
  return terminalSafe(JSON.stringify(text));
}

/** An object's name as it is where nothing in it needs escaping, else quoted. */
function shownName(name: string): string {
  return UNSAFE_IN_NAME.test(name) ? quoted(name) : name;
}
