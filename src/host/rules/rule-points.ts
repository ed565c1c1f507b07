/**
 * The pipeline's points as its rules see them: names, devices, types, poll intervals and whether a
 * rule may write them, worked out from the checked source the way resolution will (SourceBuilder),
 * so that a rule names exactly the points the pipeline will have.
 */
import type { PipelineDocument } from '../config/pipeline-schema.js';
import { SourceBuilder } from '../sources/source-builder.js';
import { writtenKinds } from '../sources/source-kinds.js';
import type { RulePoint } from './expression-check.js';
import { bacnetWriteKind } from '../sources/bacnet-writable.js';

/** Only for a source the checks accepted: resolution of a broken one may throw. */
export function rulePoints(doc: PipelineDocument): RulePoint[] {
  const build = new SourceBuilder(doc.profiles);
  for (const kind of writtenKinds(doc.source)) {
    build.kind(kind.name);
    kind.resolve(doc.source[kind.name], ['source', kind.name], build);
  }
  const { devices } = build.build();
  return build.points.map((p) => {
    const device = devices[p.device]!;
    const write = p.protocol === 'bacnet' ? bacnetWriteKind(p.objectType, p.property) : undefined;
    return {
      id: p.id,
      name: p.name,
      device: device.name,
      deviceIndex: device.index,
      bool: p.protocol === 'modbus' && p.type === 'bool',
      text: p.protocol === 'modbus' && p.type === 'string',
      intervalMs: device.intervalMs,
      // Coils and holding registers can be written; discrete inputs and input registers cannot. A
      // BACnet point: the present-value of an output or value object (the source's checks refuse the rest).
      writable: p.access !== 'read' && (p.protocol === 'modbus' ? p.function === 1 || p.function === 3 : write !== undefined),
      bacnetWrite: write ?? null,
      writePriority: p.protocol === 'bacnet' ? p.writePriority : null,
      range: p.protocol === 'modbus' && p.type !== 'bool' && p.type !== 'string' ? { type: p.type, scale: p.scale, offset: p.offset } : null,
    };
  });
}
