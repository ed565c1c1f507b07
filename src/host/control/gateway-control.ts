/**
 * The control operations of a running gateway, registered in this one place: each is one entry of
 * the map, op name -> async (params) => result (docs/control.md lists them). Adding an operation is
 * adding an entry here that reads its parameters with `readParams` (control-params.ts), which refuses
 * unknown ones as the protocol promises, and documenting it in docs/control.md.
 */
import type { Clock } from '../../hal/clock.js';
import type { Gateway, GatewayStatus } from '../gateway.js';
import { readParams } from './control-params.js';
import { WgError } from '../errors.js';
import type { ControlHandler, ControlHandlers } from './control-server.js';
import type { Logger } from '../logger.js';
import { DaemonReads } from '../commission/daemon-read.js';
import { reloadFromFile } from '../reload/reload-from-file.js';
import { pluginOps } from './plugin-ops.js';
import type { DropInStatus } from '../packages/drop-in.js';

/** The `status` result: the gateway's own status and how long the daemon has run it. */
export interface ControlStatus extends GatewayStatus {
  /** wasmgate's package version. */
  version: string;
  pid: number;
  /** When the gateway started, ISO 8601 wall time. */
  startedAt: string;
  /** Milliseconds since the gateway started, from the monotonic clock. */
  uptimeMs: number;
  /** The control socket's own connections, the one asking included. */
  control: { socket: string; connections: number; refused: number };
  /** The drop-in directory, when `plugins.drop_in` names one (packages/drop-in.ts). */
  dropIn?: DropInStatus;
}

export interface GatewayControlContext {
  gateway: Gateway;
  logger: Logger;
  clock: Clock;
  version: string;
  /** Monotonic and wall time of the gateway's start. */
  startedAt: { monotonicMs: number; wallMs: number };
  control: () => ControlStatus['control'];
  dropIn?: () => DropInStatus | undefined;
}

export function gatewayControl(context: GatewayControlContext): ControlHandlers {
  const { gateway, clock, version, startedAt } = context;
  const reads = new DaemonReads(gateway.links, context.logger);
  return {
    status: async (params) => {
      readParams('status', params, {});
      const status: ControlStatus = {
        ...gateway.status(),
        version,
        pid: process.pid,
        startedAt: new Date(startedAt.wallMs).toISOString(),
        uptimeMs: Math.round(clock.monotonicMs() - startedAt.monotonicMs),
        control: context.control(),
      };
      const dropIn = context.dropIn?.();
      if (dropIn) status.dropIn = dropIn;
      return status;
    },
    // probe and scan: a read on the daemon's own link, as a guest between its polls (daemon-read.ts).
    // A client gone before its answer (Ctrl-C) ends its read: the bus goes back to the daemon's devices.
    read: async (params, { signal }) => reads.read(readParams('read', params, { target: { type: 'object', required: true } }), signal),
    // wasmgate write: a point of a configured device, between its link's polls; the daemon's own
    // configuration decides whether the point may be written.
    write: async (params) => {
      // A value, or relinquish: true (a BACnet point's Null at its priority; JSON has no NaN).
      const p = readParams('write', params, {
        pipeline: { type: 'string', required: true }, device: { type: 'string', required: true },
        point: { type: 'string', required: true }, value: { type: 'number', required: false }, relinquish: { type: 'boolean', required: false },
      });
      if ((p.value === undefined) === (p.relinquish !== true)) {
        throw new WgError('WG_ERR_CONTROL_REQUEST', { op: 'write', detail: 'write: give a value, or relinquish: true (not both)' });
      }
      const value = p.relinquish === true ? NaN : p.value!;
      context.logger.info({ event: 'control.write', pipeline: p.pipeline, device: p.device, point: p.point, ...(p.relinquish === true ? { relinquish: true } : { value }) }, 'write asked over the control socket');
      return gateway.write(p.pipeline, p.device, p.point, value);
    },
    // wasmgate reload: the files read again and applied as SIGHUP does (reload-from-file.ts).
    reload: async (params) => {
      readParams('reload', params, {});
      return reloadFromFile(gateway, context.logger);
    },
    // wasmgate plugin install | rollback | list: packages and the registry (plugin-control.ts).
    ...packageOps(gateway, context.logger),
  };
}

/** The package operations, loaded at their first use (plugin-ops.ts). */
function packageOps(gateway: Gateway, logger: Logger): ControlHandlers {
  const op = (name: string): ControlHandler => async (...args) => (await pluginOps(gateway, logger)).handlers[name]!(...args);
  return { 'plugin.install': op('plugin.install'), 'plugin.rollback': op('plugin.rollback'), 'plugin.list': op('plugin.list') };
}
