/**
 * `wasmgate write`: writes one point of a configured device, for commissioning. The device's pipeline
 * is started without polling (its decoder in its worker, the device's link and arbiter), the decoder
 * encodes the value from the point's type, order and scale, and the device's echo confirms it. A
 * read-only point is refused before anything is sent. When a daemon runs, the write goes through it,
 * between its polls, and its own configuration decides (through-daemon.ts).
 */
import { CaptureSink } from '../commission/capture-sink.js';
import { loadGatewayConfig } from '../config/index.js';
import { isWgError, WgError } from '../errors.js';
import { createLogger } from '../logger.js';
import { AssembledPipeline } from '../pipeline/pipeline-assembly.js';
import { systemClock } from '../../hal/clock.js';
import { writeThroughDaemon, type DaemonChoice } from './through-daemon.js';
import type { WriteResult } from '../poll/point-write.js';

export interface WriteArgs {
  config: string;
  device: string;
  point: string;
  value: string;
  pipeline?: string;
  json: boolean;
  /** The running daemon to write through, when one runs (through-daemon.ts). */
  daemon: DaemonChoice;
}

/**
 * `42`, `-1.5`, `1e3`, `true`/`false` (1/0, for coils, register bits and binary objects), or
 * `relinquish` (also `null`): NaN, the Null that empties a BACnet point's priority (ABI 1.2 wg_write).
 */
export function writeValue(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === 'on') return 1;
  if (t === 'false' || t === 'off') return 0;
  if (t === 'relinquish' || t === 'null') return NaN;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new WgError('WG_ERR_CLI_USAGE', { detail: `value ${text}: give a number (42, -1.5, 1e3) or true/false` });
  // A value is a double: an integer past 2^53 typed digit by digit would be written as a neighbour of it.
  if (/^[+-]?\d+$/.test(t) && !Number.isSafeInteger(n)) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `value ${text}: integers are written exactly up to ±9007199254740991 (2^53 - 1); this one would be written as ${n}` });
  }
  return n;
}

export async function runWrite(args: WriteArgs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const value = writeValue(args.value);
  const loaded = await loadGatewayConfig(args.config);
  if (!loaded.ok) {
    for (const p of loaded.problems) err(`${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
    return 1;
  }
  const candidates = loaded.config.pipelines.filter((p) => (args.pipeline === undefined || p.name === args.pipeline) && p.source.devices.some((d) => d.name === args.device));
  if (candidates.length === 0) throw new WgError('WG_ERR_CLI_USAGE', { detail: `no device ${args.device}${args.pipeline ? ` in pipeline ${args.pipeline}` : ''} in ${args.config}` });
  if (candidates.length > 1) throw new WgError('WG_ERR_CLI_USAGE', { detail: `device ${args.device} is in pipelines ${candidates.map((p) => p.name).join(', ')}: name one with --pipeline` });
  const pipeline = candidates[0]!;
  const device = pipeline.source.devices.find((d) => d.name === args.device)!;
  const point = device.points.find((p) => p.name === args.point);
  if (!point) throw new WgError('WG_ERR_CLI_USAGE', { detail: `device ${args.device} has no point ${args.point} (it has ${device.points.map((p) => p.name).join(', ')})` });
  if (point.access === 'read') {
    err(`wasmgate: point ${args.point} of ${args.device} is read-only (access: read); declare access: write or read_write in ${pipeline.file} to write it`);
    return 2;
  }
  const relinquish = Number.isNaN(value);
  if (relinquish && point.protocol !== 'bacnet') {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `value ${args.value}: relinquish empties a BACnet point's priority; ${args.point} is a Modbus point, give it a value` });
  }
  const what = relinquish ? `relinquished ${point.protocol === 'bacnet' && point.writePriority !== null ? `priority ${point.writePriority}` : 'the default priority (16)'} of` : `wrote ${value} to`;
  const report = (result: WriteResult): number => {
    // JSON has no NaN: a relinquish says so, with no value.
    const body = relinquish ? { ok: true, ...result, value: null, relinquish: true } : { ok: true, ...result };
    out(args.json ? JSON.stringify(body) : `${what} ${args.point} of ${args.device}: confirmed by the device in ${result.rttMs.toFixed(1)} ms`);
    return 0;
  };
  const refused = (e: unknown): number => {
    if (!isWgError(e)) throw e;
    if (args.json) out(JSON.stringify({ ok: false, code: e.code, message: e.message, ...e.context }));
    else err(`wasmgate: ${e.toString()}`);
    return 1;
  };
  let through: WriteResult | undefined;
  try {
    through = await writeThroughDaemon(args.daemon, { pipeline: pipeline.name, device: args.device, point: args.point, value }, err);
  } catch (e) {
    // The daemon holds the device and refused or failed the write: working past it would collide with its polls.
    if (isWgError(e, 'WG_ERR_CLI_USAGE')) throw e;
    return refused(e);
  }
  if (through) return report(through);
  const logger = createLogger('warn', 'pretty', {}, true);
  const assembled = await AssembledPipeline.start(pipeline, { gatewayId: loaded.config.id, sink: new CaptureSink(), logger, clock: systemClock, poll: false });
  try {
    return report(await assembled.write(args.device, args.point, value));
  } catch (e) {
    return refused(e);
  } finally {
    await assembled.stop();
  }
}
