/**
 * The control operations of a running gateway, registered in this one place: each is one entry of
 * the map, op name -> async (params) => result (docs/control.md lists them). Adding an operation is
 * adding an entry here that reads its parameters with `readParams` (control-params.ts), which refuses
 * unknown ones as the protocol promises, and documenting it in docs/control.md.
 */
import type { Clock } from '../../hal/clock.js';
import type { Gateway, GatewayStatus } from '../gateway.js';
import { readParams } from './control-params.js';
import type { ControlHandlers } from './control-server.js';

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
}

export interface GatewayControlContext {
  gateway: Gateway;
  clock: Clock;
  version: string;
  /** Monotonic and wall time of the gateway's start. */
  startedAt: { monotonicMs: number; wallMs: number };
  control: () => ControlStatus['control'];
}

export function gatewayControl(context: GatewayControlContext): ControlHandlers {
  const { gateway, clock, version, startedAt } = context;
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
      return status;
    },
  };
}
