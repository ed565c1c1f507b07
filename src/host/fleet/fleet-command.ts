/**
 * A fleet command as it arrives on a command topic (docs/fleet.md, "Commands"): JSON, read as hostile.
 * Checked by hand, field by field, so that the daemon needs no schema compiler; every refusal says
 * which field and why (WG_ERR_FLEET_COMMAND), with the command's id when it has a readable one.
 *
 *   { "id": "rollout-42/gw-a", "op": "install", "plugin": "scale", "version": "0.2.0",
 *     "sha256": "<hex of the .wgp file>", "package": "<base64>" | "url": "https://...",
 *     "expires": "2026-12-03T18:00:00Z" }
 *   { "id": ..., "op": "rollback", "plugin": "scale", "version": "0.2.0", "expires": ... }   leave 0.2.0
 *   { "id": ..., "op": "status", "expires": ... }                                               a health probe
 */
import { WgError } from '../errors.js';

export type FleetCommand =
  | { readonly id: string; readonly op: 'install'; readonly plugin: string; readonly version: string; readonly sha256: string; readonly source: PackageRef; readonly expiresMs: number }
  | { readonly id: string; readonly op: 'rollback'; readonly plugin: string; readonly version: string; readonly expiresMs: number }
  | { readonly id: string; readonly op: 'status'; readonly expiresMs: number };

/** The package in the message (base64), or where the operator serves it. */
export type PackageRef = { readonly kind: 'inline'; readonly base64: string } | { readonly kind: 'url'; readonly url: string };

/** Ids are echoed in topics' payloads and logs: short, and of plain characters. */
export const COMMAND_ID = /^[A-Za-z0-9._:/-]{1,128}$/;
const PLUGIN = /^[a-z][a-z0-9_-]*$/;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FIELDS: Record<FleetCommand['op'], readonly string[]> = {
  install: ['id', 'op', 'plugin', 'version', 'sha256', 'package', 'url', 'expires'],
  rollback: ['id', 'op', 'plugin', 'version', 'expires'],
  status: ['id', 'op', 'expires'],
};

/** The id of a payload that may not be a command, for the refusal's status; null when it has none. */
export function commandIdOf(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' && COMMAND_ID.test(id) ? id : null;
}

/** Parses and checks a command payload; throws WG_ERR_FLEET_COMMAND saying what is wrong. */
export function parseCommand(payload: Uint8Array): FleetCommand {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (err) {
    throw new WgError('WG_ERR_FLEET_COMMAND', { id: '(none)', detail: `not JSON: ${(err as Error).message}` });
  }
  const id = commandIdOf(value);
  const refuse = (detail: string): never => {
    throw new WgError('WG_ERR_FLEET_COMMAND', { id: id ?? '(none)', detail });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return refuse('not a JSON object');
  const c = value as Record<string, unknown>;
  if (id === null) return refuse(`id must be 1 to 128 of A-Z a-z 0-9 . _ : / - (got ${JSON.stringify(c.id) ?? 'nothing'})`);
  const op = c.op;
  if (op !== 'install' && op !== 'rollback' && op !== 'status') return refuse(`op must be install, rollback or status (got ${JSON.stringify(op) ?? 'nothing'})`);
  const unknown = Object.keys(c).filter((k) => !FIELDS[op].includes(k));
  if (unknown.length > 0) return refuse(`${op} has no field ${unknown.join(', ')}`);
  const text = (field: string, pattern: RegExp, what: string): string => {
    const v = c[field];
    if (typeof v !== 'string' || !pattern.test(v)) return refuse(`${field} must be ${what} (got ${JSON.stringify(v) ?? 'nothing'})`);
    return v;
  };
  if (typeof c.expires !== 'string' || Number.isNaN(Date.parse(c.expires))) return refuse(`expires must be an ISO 8601 time (got ${JSON.stringify(c.expires) ?? 'nothing'})`);
  const expiresMs = Date.parse(c.expires);
  if (op === 'status') return { id, op, expiresMs };
  const plugin = text('plugin', PLUGIN, 'a plugin name');
  const version = text('version', VERSION, 'a version such as 1.0.0');
  if (op === 'rollback') return { id, op, plugin, version, expiresMs };
  const sha256 = text('sha256', SHA256, 'the package file\'s sha256, 64 lower-case hex digits');
  if ((c.package === undefined) === (c.url === undefined)) return refuse('install carries the package (package, base64) or names it (url), one of the two');
  if (c.package !== undefined) {
    if (typeof c.package !== 'string' || c.package.length % 4 !== 0 || !BASE64.test(c.package)) return refuse('package must be the package file in base64');
    return { id, op, plugin, version, sha256, source: { kind: 'inline', base64: c.package }, expiresMs };
  }
  let url: URL;
  try {
    url = new URL(String(c.url));
  } catch {
    return refuse(`url is not a URL (got ${JSON.stringify(c.url)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse(`url must be http: or https: (got ${url.protocol})`);
  return { id, op, plugin, version, sha256, source: { kind: 'url', url: url.href }, expiresMs };
}
