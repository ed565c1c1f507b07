/**
 * The options probe, scan and write share: where the device is (one of --tcp, --rtu-over-tcp,
 * --serial, with the serial line's settings) and how long to wait for it. Turned into a
 * CommissionTarget here, refused with the option's name when wrong.
 */
import { Option, type Command } from 'commander';
import { parseDuration } from '../config/units.js';
import { WgError } from '../errors.js';
import { checkReadSize, hostPort, unitList, type CommissionTarget, type ReadRange, type TargetLink } from '../commission/commission-target.js';

export interface LinkOptions {
  tcp?: string;
  rtuOverTcp?: string;
  serial?: string;
  baud: string;
  parity: 'none' | 'even' | 'odd';
  stopBits: string;
  timeout: string;
  retries: string;
}

export function addLinkOptions(command: Command, defaultTimeout: string): Command {
  return command
    .option('--tcp <host[:port]>', 'a Modbus TCP device (port 502 unless given)')
    .option('--rtu-over-tcp <host:port>', 'a serial device server carrying RTU frames over TCP')
    .option('--serial <path>', 'a serial port with Modbus RTU devices (/dev/ttyUSB0)')
    .option('--baud <bits/s>', 'serial speed', '19200')
    .addOption(new Option('--parity <parity>', 'serial parity').choices(['none', 'even', 'odd']).default('even'))
    .addOption(new Option('--stop-bits <n>', 'serial stop bits').choices(['1', '2']).default('1'))
    .option('--timeout <duration>', 'wait for each answer', defaultTimeout)
    .option('--retries <n>', 'extra attempts per request', '0');
}

export interface DaemonOptions {
  socket?: string;
  config?: string;
  standalone?: boolean;
}

/** How to find the running daemon that may hold the line (through-daemon.ts), or to leave it out. */
export function addDaemonOptions(command: Command, withConfig: boolean): Command {
  if (withConfig) command.option('-c, --config <file>', "the running daemon's gateway file, to find its control socket");
  return command
    .option('--socket <path>', "the running daemon's control socket (default: WASMGATE_SOCKET, else /run/wasmgate/control.sock)")
    .option('--standalone', 'never go through a running daemon: open the port or connection here');
}

export function targetLink(o: LinkOptions): TargetLink {
  const given = [o.tcp, o.rtuOverTcp, o.serial].filter((v) => v !== undefined).length;
  if (given !== 1) throw new WgError('WG_ERR_CLI_USAGE', { detail: 'name the device one way: --tcp <host[:port]>, --rtu-over-tcp <host:port> or --serial <path>' });
  if (o.tcp !== undefined) return { kind: 'modbus_tcp', ...hostPort(o.tcp, 502, '--tcp') };
  if (o.rtuOverTcp !== undefined) return { kind: 'modbus_rtu_over_tcp', ...hostPort(o.rtuOverTcp, undefined, '--rtu-over-tcp') };
  const baud = Number(o.baud);
  if (!Number.isInteger(baud) || baud < 300 || baud > 4_000_000) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--baud ${o.baud}: bits per second, from 300 to 4000000` });
  return { kind: 'modbus_rtu', path: o.serial as string, baud, parity: o.parity, stopBits: Number(o.stopBits) as 1 | 2 };
}

export function commissionTarget(o: LinkOptions & { unit: string }, range: ReadRange, units: { min: number; max: number }): CommissionTarget {
  const link = targetLink(o);
  const timeout = parseDuration(/^\d+$/.test(o.timeout) ? Number(o.timeout) : o.timeout);
  if (!timeout.ok || timeout.value === 0) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--timeout ${o.timeout}: a duration such as 200ms or 1s` });
  const retries = Number(o.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--retries ${o.retries}: 0 to 10` });
  // On a bus 0 is the broadcast address, which never answers; over TCP it is a valid unit id.
  const min = link.kind === 'modbus_tcp' ? units.min : Math.max(1, units.min);
  const max = link.kind === 'modbus_tcp' ? units.max : Math.min(247, units.max);
  const list = unitList(o.unit, min, max);
  checkReadSize(list.length, range.count, '--unit and --count');
  return { link, units: list, range, timeoutMs: timeout.value, retries };
}

/** --function, --address, --count as a read range. */
export function readRange(o: { function: string; address: string; count: string }): ReadRange {
  const fn = Number(o.function);
  const address = Number(o.address);
  const count = Number(o.count);
  if (![1, 2, 3, 4].includes(fn)) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--function ${o.function}: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers` });
  if (!Number.isInteger(address) || address < 0 || address > 65535) throw new WgError('WG_ERR_CLI_USAGE', { detail: `--address ${o.address}: a 0-based protocol address, 0 to 65535` });
  const most = fn <= 2 ? 2000 : 125;
  if (!Number.isInteger(count) || count < 1 || count > most * 8 || address + count - 1 > 65535) {
    throw new WgError('WG_ERR_CLI_USAGE', { detail: `--count ${o.count}: 1 to ${most * 8}, and the range must end by address 65535` });
  }
  return { function: fn as 1 | 2 | 3 | 4, address, count };
}
