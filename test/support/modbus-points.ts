/**
 * A resolved pipeline's points are Modbus or BACnet ones (config/resolved.ts, ResolvedPoint). Tests of
 * Modbus configurations read Modbus fields; this checks every point is one and hands them back typed.
 */
import assert from 'node:assert/strict';
import type { ResolvedModbusPoint, ResolvedPoint } from '../../src/host/config/resolved.js';

export function modbusPoints(points: readonly ResolvedPoint[]): ResolvedModbusPoint[] {
  return points.map((p) => {
    assert.equal(p.protocol, 'modbus', `point ${p.name} is a Modbus point`);
    return p as ResolvedModbusPoint;
  });
}
