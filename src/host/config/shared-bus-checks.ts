/**
 * Checks across pipelines. Buses of several pipelines that go to one line (a serial port, a serial
 * device server) share one arbiter at run (src/host/poll/shared-links.ts), so they must agree on how
 * the line is driven, and their slaves must have unit ids of their own on it. A port written as a
 * by-id link in one pipeline and as its device in another is one line (lineKey). Each problem is
 * reported at the later pipeline's setting, naming the earlier one's.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigProblem } from './problem.js';
import type { ResolvedGateway, ResolvedLink, ResolvedPipeline } from './resolved.js';
import type { YamlSource } from './yaml-source.js';
import { lineKey, linkEndpoint } from '../poll/shared-links.js';

/** Line settings that must match, with the setting that writes each. */
const LINE_SETTINGS = [
  ['baudRate', 'baud'],
  ['parity', 'parity'],
  ['dataBits', 'data_bits'],
  ['stopBits', 'stop_bits'],
  ['rs485', 'rs485'],
  ['silenceMs', 'silence'],
] as const;

type Device = ResolvedPipeline['source']['devices'][number];

interface Seen {
  pipeline: ResolvedPipeline;
  link: ResolvedLink;
  /** Every device on the line so far, by unit id, with its pipeline. */
  units: Map<number, { device: Device; pipeline: ResolvedPipeline }>;
}

export function checkSharedBuses(config: ResolvedGateway, sourceOf: (file: string) => YamlSource): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const first = new Map<string, Seen>();
  for (const pipeline of config.pipelines) {
    const source = sourceOf(pipeline.file);
    for (const link of pipeline.source.links) {
      if (link.framing !== 'rtu') continue;
      const key = lineKey(link);
      const seen = first.get(key);
      const devices = link.devices.map((d) => pipeline.source.devices[d]!);
      if (!seen) {
        first.set(key, { pipeline, link, units: new Map(devices.map((device) => [device.unitId, { device, pipeline }])) });
        continue;
      }
      // Two buses of one pipeline on one line are that pipeline's own checks' business.
      if (seen.pipeline === pipeline) continue;
      const there = (where: ResolvedPipeline, at: readonly (string | number)[]) => {
        const p = sourceOf(where.file).positionOf(at);
        return `pipeline ${where.name} (${where.file}:${p.line}:${p.column})`;
      };
      const mismatch = LINE_SETTINGS.find(([field]) => !isDeepStrictEqual((link as unknown as Record<string, unknown>)[field], (seen.link as unknown as Record<string, unknown>)[field]));
      if (mismatch) {
        const [field, setting] = mismatch;
        const shown = (l: ResolvedLink) => JSON.stringify((l as unknown as Record<string, unknown>)[field]);
        problems.push(source.problem([...link.at, setting], 'WG_ERR_CONFIG_CONFLICT', {
          detail: `bus ${link.name} goes to ${linkEndpoint(link)}, as bus ${seen.link.name} of ${there(seen.pipeline, seen.link.at)} does${alias(link, seen.link)}, with ${setting} ${shown(link)} against ${shown(seen.link)}: pipelines on one line share it and must drive it alike`,
        }));
        continue;
      }
      for (const device of devices) {
        const other = seen.units.get(device.unitId);
        if (other) {
          problems.push(source.problem([...device.at, 'unit_id'], 'WG_ERR_CONFIG_CONFLICT', {
            detail: `unit id ${device.unitId} on ${linkEndpoint(link)}${alias(link, seen.link)} is device ${other.device.name}'s already, in ${there(other.pipeline, other.device.at)}: two slaves with one address answer over each other`,
          }));
        } else seen.units.set(device.unitId, { device, pipeline });
      }
    }
  }
  return problems;
}

/** When the two name one port by two paths (a by-id link and its device), says so. */
function alias(link: ResolvedLink, earlier: ResolvedLink): string {
  const here = linkEndpoint(link);
  const there = linkEndpoint(earlier);
  return here === there ? '' : ` (as ${there}: the same port)`;
}
