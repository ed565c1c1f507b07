/**
 * `wasmgate scan bacnet --pipeline-yaml`: what a scan found as a pipeline file, the field engineer's
 * way from a scan to a configured gateway. Its bacnet_ip source reads the points found; `wasmgate
 * validate` accepts it once a gateway file lists it and has the uplink it names.
 */
import { stringify } from 'yaml';
import { BACNET_OBJECT_TYPES } from '../sources/bacnet-names.js';
import type { BacnetScanRequest, BacnetScanResult } from './bacnet-scan.js';
import { typeName, unitsOf } from './bacnet-scan-names.js';

/**
 * A pipeline file reading the present value of every object found that the bacnet decoder reads
 * (analog, binary, multi-state input/output/value), named from the objects' names, units as the
 * BACnet names the gateway maps to si; devices without such objects are left out, and named.
 */
export function pipelineYaml(request: BacnetScanRequest, result: BacnetScanResult): { text: string; skipped: string[] } {
  const readable = new Set<number>(Object.values(BACNET_OBJECT_TYPES).filter((t) => t !== 8));
  const deviceNames = new Set<string>();
  const skipped: string[] = [];
  const devices = result.devices.flatMap((d) => {
    if (d.route) {
      // The bacnet_ip source addresses devices on the IP network only (sources/bacnet-ip.ts).
      skipped.push(`device ${d.instance} (behind a router: the bacnet_ip source does not reach routed devices yet)`);
      return [];
    }
    const objects = d.objects.filter((x) => readable.has(x.objectType));
    if (objects.length === 0) {
      skipped.push(`device ${d.instance} (no object the bacnet decoder reads)`);
      return [];
    }
    const pointNames = new Set<string>();
    const points = objects.map((x) => {
      const units = x.units !== undefined ? unitsOf(x.units) : undefined;
      return {
        name: unique(safeName(x.name, `${typeName(x.objectType)}-${x.instance}`), pointNames),
        object_type: typeName(x.objectType),
        instance: x.instance,
        ...(units?.bacnet !== undefined && units.bacnet !== 'no-units' ? { unit: units.bacnet } : {}),
        ...(x.description ? { description: x.description } : {}),
      };
    });
    return [{
      name: unique(safeName(d.name, `device-${d.instance}`), deviceNames),
      host: d.address,
      port: d.port,
      device_instance: d.instance,
      timeout: `${request.timeoutMs}ms`,
      retries: request.retries,
      points,
    }];
  });
  const header = `# Written by wasmgate scan bacnet (Who-Is to ${request.host}:${request.port}): ${devices.length} device(s), ` +
    `${devices.reduce((n, d) => n + d.points.length, 0)} point(s), each an object's present value.\n` +
    '# Check the names and units, set the uplink, and list this file in the gateway file\'s pipelines.\n';
  if (devices.length === 0) return { text: `${header}# No device with points the bacnet_ip source can read (see stderr): no pipeline.`, skipped };
  const doc = {
    pipeline: { name: 'bacnet-scan' },
    source: { bacnet_ip: { devices } },
    steps: [{ plugin: 'bacnet' }, { plugin: 'si' }, { plugin: 'json' }],
    publish: { uplink: 'cloud', topic: 'bms/{gateway}/{device}/{point}' },
  };
  return { text: header + stringify(doc, { lineWidth: 0 }).trimEnd(), skipped };
}

/** A name the config accepts (letters, digits, ".", "_", "-"), from what the device calls it. */
function safeName(name: string | undefined, fallback: string): string {
  const cleaned = (name ?? '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return cleaned === '' ? fallback : cleaned;
}

function unique(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}-${n}`;
  taken.add(candidate);
  return candidate;
}
