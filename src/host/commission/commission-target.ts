/**
 * What a commissioning tool talks to, as the operator gives it on the command line, turned into the
 * source section of a pipeline: a Modbus TCP host, a serial device server (RTU over TCP) or a serial
 * port, and the unit ids to ask there. The tools then run a real pipeline on it (one-shot-read.ts),
 * so they frame, time and arbitrate exactly as the daemon does.
 */
import { WgError } from '../errors.js';

export type TargetLink =
  | { kind: 'modbus_tcp'; host: string; port: number }
  | { kind: 'modbus_rtu_over_tcp'; host: string; port: number }
  | { kind: 'modbus_rtu'; path: string; baud: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 };

export interface ReadRange {
  /** 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers. */
  function: 1 | 2 | 3 | 4;
  address: number;
  /** Registers (3/4) or bits (1/2). */
  count: number;
}

export interface CommissionTarget {
  link: TargetLink;
  units: number[];
  range: ReadRange;
  timeoutMs: number;
  retries: number;
}

/** `host`, `host:port`, `[v6]:port`; `defaultPort` when none is given. */
export function hostPort(text: string, defaultPort: number | undefined, option: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text.trim());
  const port = m?.[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!m || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `${option} ${text}: expected host${defaultPort === undefined ? ':port' : '[:port]'}` });
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * Most values (unit ids times registers or bits) one read may ask: each is a point of the read's
 * pipeline, and the modbus plugin traps in wg_configure somewhere above 56 000 points (64 units of
 * 1000 registers did). Half of that, refused with words instead of a trap.
 */
export const MOST_VALUES_PER_READ = 32_768;

/** Refuses a read of more than MOST_VALUES_PER_READ values, naming the options that make it. */
export function checkReadSize(units: number, count: number, what: string): void {
  if (units * count > MOST_VALUES_PER_READ) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `${what}: ${units} unit ids of ${count} values each are ${units * count} values; one read takes at most ${MOST_VALUES_PER_READ}: ask fewer unit ids or a shorter range` });
  }
}

/** `1`, `1,2,5`, `1..10`, `1..5,9`: unit ids, in order, each once. */
export function unitList(text: string, min: number, max: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    const first = Number(m?.[1]);
    const last = m?.[2] !== undefined ? Number(m[2]) : first;
    if (!m || first < min || last > max || last < first) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--unit ${text}: expected unit ids from ${min} to ${max}, as 1, 1,2,5 or 1..10` });
    for (let u = first; u <= last; u++) out.add(u);
  }
  return [...out];
}

/** The pipeline's `source:` section for the target: one device per unit id, all on one link. */
export function targetSource(target: CommissionTarget): Record<string, unknown> {
  const { link, units, range } = target;
  const bits = range.function <= 2;
  const last = range.address + range.count - 1;
  const points = [{
    name: bits ? 'b{address}' : 'r{address}',
    function: range.function,
    registers: `${range.address}..${last}`,
    type: bits ? 'bool' : 'uint16',
  }];
  const timing = { interval: '24h', timeout: `${target.timeoutMs}ms`, retries: target.retries, quarantine_after: 1000 };
  const devices = units.map((unit) => ({ name: `unit-${unit}`, unit_id: unit, ...timing, points }));
  switch (link.kind) {
    case 'modbus_tcp':
      return { modbus_tcp: { devices: devices.map((d) => ({ ...d, host: link.host, port: link.port, connection: 'probe' })) } };
    case 'modbus_rtu_over_tcp':
      return { modbus_rtu_over_tcp: { buses: [{ name: 'probe', host: link.host, port: link.port, devices }] } };
    case 'modbus_rtu':
      return { modbus_rtu: { buses: [{ name: 'probe', port: link.path, baud: link.baud, parity: link.parity, stop_bits: link.stopBits, devices }] } };
  }
}

/** Most unit ids one read asks: every address of a bus (1-247), or of a Modbus TCP gateway (0-255). */
const MOST_UNITS = 256;

/**
 * A target as it arrives over the control socket, from any local client: checked field by field
 * before anything is built from it, refused with the field's name.
 */
export function checkedTarget(value: unknown): CommissionTarget {
  const bad = (field: string, want: string): never => {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `read target: ${field} must be ${want}` });
  };
  const int = (v: unknown, min: number, max: number, field: string): number =>
    (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : bad(field, `an integer from ${min} to ${max}`));
  const t = (value ?? {}) as Record<string, unknown>;
  const l = (t.link ?? {}) as Record<string, unknown>;
  let link: TargetLink;
  if (l.kind === 'modbus_tcp' || l.kind === 'modbus_rtu_over_tcp') {
    if (typeof l.host !== 'string' || l.host === '' || l.host.length > 255) bad('link.host', 'a host name or address');
    link = { kind: l.kind, host: l.host as string, port: int(l.port, 1, 65535, 'link.port') };
  } else if (l.kind === 'modbus_rtu') {
    if (typeof l.path !== 'string' || !l.path.startsWith('/') || l.path.length > 4096) bad('link.path', 'an absolute serial device path');
    if (!['none', 'even', 'odd'].includes(l.parity as string)) bad('link.parity', 'none, even or odd');
    link = { kind: 'modbus_rtu', path: l.path as string, baud: int(l.baud, 300, 4_000_000, 'link.baud'), parity: l.parity as 'none' | 'even' | 'odd', stopBits: int(l.stopBits, 1, 2, 'link.stopBits') as 1 | 2 };
  } else {
    return bad('link.kind', 'modbus_tcp, modbus_rtu_over_tcp or modbus_rtu');
  }
  const maxUnit = link.kind === 'modbus_tcp' ? 255 : 247;
  if (!Array.isArray(t.units) || t.units.length === 0 || t.units.length > MOST_UNITS) bad('units', `a list of 1 to ${MOST_UNITS} unit ids`);
  const units = [...new Set((t.units as unknown[]).map((u, i) => int(u, link.kind === 'modbus_tcp' ? 0 : 1, maxUnit, `units[${i}]`)))];
  const r = (t.range ?? {}) as Record<string, unknown>;
  const fn = int(r.function, 1, 4, 'range.function') as 1 | 2 | 3 | 4;
  const address = int(r.address, 0, 65535, 'range.address');
  const count = int(r.count, 1, Math.min((fn <= 2 ? 2000 : 125) * 8, 65536 - address), 'range.count');
  checkReadSize(units.length, count, 'read target: units and range.count');
  return { link, units, range: { function: fn, address, count }, timeoutMs: int(t.timeoutMs, 1, 60_000, 'timeoutMs'), retries: int(t.retries, 0, 10, 'retries') };
}
