// A plugin's linear memory after configure with a reference document (500 points, one Modbus device,
// as the gateway builds it: src/host/pipeline/settings-document.ts) stays within what it must hold,
// derived by hand from the plugin's own layout. Linear memory only grows (64 KiB pages), so what
// configure leaves is what the instance keeps for its life.
//
// What every instance holds: the module's initial memory (data, stack: its first pages, measured before
// configure), and the input region, which holds the settings document while configure reads it (then
// each batch). On top of that, what each plugin plans per point (below). The stub allocator grows memory
// by at least as many pages as it has (it doubles), so a block can leave up to as much again unused
// and never touched: the bound is twice what is needed, rounded up to whole pages.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const PAGE = 65536;
const POINTS = 500;

/** The points of one Modbus TCP device as settings-document.ts's pointDocument writes them. */
const points = Array.from({ length: POINTS }, (_, i) => ({
  id: i, name: `plcA.t${i}`, device: 0, function: 3, address: i, type: 'int16', order: 'ABCD',
  length: 1, unit: 'degC', scale: 0.1, offset: 0, access: 'read',
}));
const devices = [{ index: 0, name: 'plcA', kind: 'modbus_tcp', link: 'plcA', framing: 'tcp', host: '127.0.0.1', port: 1502, unit_id: 1, interval_ms: 1000, timeout_ms: 1000 }];

function configured(plugin: string, withSettings: Record<string, unknown>) {
  const instance = new PluginInstance(compileBuiltPlugin(plugin));
  const initial = instance.memoryBytes;
  const doc = { abi: 1, pipeline: 'line1', step: 3, plugin, with: withSettings, devices, points };
  instance.configure(doc);
  return { instance, initial, docBytes: Buffer.byteLength(JSON.stringify(doc)) };
}

const bound = (need: number) => 2 * Math.ceil(need / PAGE) * PAGE;

test('resample after configure holds its table and the settings document, nothing more', async () => {
  const { withDefaults } = await manifestDefaults('resample');
  // The reference load's step, and the defaults' grace: 2000 ms over 1000 ms buckets.
  const { instance, initial, docBytes } = configured('resample', withDefaults({ bucket: 1000 }));
  // bucket-table.ts: a 72-byte record per point, and 1 + ceil(grace / bucket) = 3 slots of 96 bytes;
  // point-settings.ts: 8 bytes a point (where its name and its override are in the document).
  const perPoint = 72 + 3 * 96 + 8;
  // Slack: the reader objects and allocator headers and alignment, well under 1 KiB; 4 KiB stated.
  const need = initial + docBytes + POINTS * perPoint + 4096;
  assert.ok(instance.memoryBytes <= bound(need), `resample: ${instance.memoryBytes} bytes of linear memory, at most ${bound(need)} (needs ${need})`);
  // Before it was read in place, the JSON tree of this document kept 4 MiB.
  assert.ok(bound(need) < 4 * 1024 * 1024);
});

test('scale after configure holds its factors, offsets and units, and the settings document', async () => {
  const { withDefaults } = await manifestDefaults('scale');
  const own: Record<string, unknown> = {};
  for (const p of points) own[p.name] = { factor: 0.1, offset: -40, unit: '°C' };
  const { instance, initial, docBytes } = configured('scale', withDefaults({ points: own }));
  // scale.ts: two f64 a point, and wg_units' answer (a u16 and at most the unit's JSON text, 3 bytes
  // for "°C" in UTF-8); point-settings.ts: 8 bytes a point.
  const perPoint = 16 + 2 + 3 + 8;
  const need = initial + docBytes + POINTS * perPoint + 4096;
  assert.ok(instance.memoryBytes <= bound(need), `scale: ${instance.memoryBytes} bytes of linear memory, at most ${bound(need)} (needs ${need})`);
  assert.deepEqual(instance.units(POINTS)!.slice(0, 2), ['°C', '°C']);
});
