/**
 * `wasmgate probe`: reads a register range from one device and prints each register with every reading
 * of it side by side (int16 … float64 in each byte order, hex, ASCII), or, with --json, the same as
 * one JSON document. The read goes through a real pipeline (one-shot-read.ts), on the running
 * daemon's link when it holds the line (through-daemon.ts).
 */
import type { UnitReading } from '../commission/one-shot-read.js';
import { readTarget, type DaemonChoice } from './through-daemon.js';
import { registerRows, VIEW_ORDERS, type RegisterRow } from '../commission/register-views.js';
import type { CommissionTarget } from '../commission/commission-target.js';
import { createLogger } from '../logger.js';

export async function runProbe(target: CommissionTarget, json: boolean, daemon: DaemonChoice, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const logger = createLogger('warn', 'pretty', {}, true);
  const [reading] = await readTarget(target, daemon, logger, err);
  const r = reading as UnitReading;
  const bits = target.range.function <= 2;
  const rows = bits ? [] : registerRows(target.range.address, r.values.map((v) => v.value));
  if (json) {
    out(JSON.stringify({
      unit: r.unit, function: target.range.function, address: target.range.address, count: target.range.count, answered: r.answered,
      ...(bits ? { bits: r.values.map((v) => ({ address: v.address, value: v.value, quality: v.quality })) } : { registers: rows.map((row, i) => ({ ...row, quality: r.values[i]!.quality })) }),
    }));
    return r.answered ? 0 : 1;
  }
  if (!r.present) {
    out(`unit ${r.unit}: no answer (${r.values[0]?.quality ?? 'no-comm'}): check the unit id, the wiring or address, and the serial settings`);
    return 1;
  }
  if (bits) {
    for (const v of r.values) out(`${String(v.address).padStart(5)}  ${v.value === null ? v.quality : v.value}`);
  } else {
    for (const line of table(rows, r)) out(line);
  }
  return r.answered ? 0 : 1;
}

function table(rows: readonly RegisterRow[], r: UnitReading): string[] {
  const columns = ['int16.ABCD', 'uint16.ABCD', 'int16.BADC', 'uint16.BADC',
    ...['int32', 'uint32', 'float32', 'float64'].flatMap((t) => VIEW_ORDERS.map((o) => `${t}.${o}`))];
  const header = ['addr', 'hex', 'ascii', ...columns];
  const body = rows.map((row, i) => row.word === null
    ? [String(row.address), r.values[i]!.quality]
    : [String(row.address), row.hex!, JSON.stringify(row.ascii), ...columns.map((c) => format(row.views[c] ?? null))]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => (b[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...body.map(line)];
}

function format(v: number | null): string {
  if (v === null) return '-';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const short = Number(v.toPrecision(7));
  return Math.abs(short) >= 1e9 || (Math.abs(short) < 1e-4 && short !== 0) ? short.toExponential(3) : String(short);
}
