// modbus decoder, configure: points the plugin cannot read are refused at configure, with the point
// and the setting named (the host attaches the message to WG_ERR_PLUGIN_CONFIGURE).
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPluginManifest } from '../../src/host/config/plugin-manifest.js';
import { isWgError } from '../../src/host/errors.js';
import { REPO_ROOT } from '../support/plugins.js';
import { answer, decodeRecords, modbusDecoder, plan, type ModbusSettings, type PointSetting } from '../support/modbus-plugin.js';

function refused(settings: ModbusSettings, message: RegExp): void {
  assert.throws(() => modbusDecoder(settings), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE'), String(err));
    assert.match(err.message, message);
    return true;
  });
}

/** Point 1 (named "bad") is the one refused; point 0 is fine. */
function refusedPoint(point: Partial<PointSetting> & Record<string, unknown>, message: RegExp, withSettings?: Record<string, unknown>): void {
  const points = [{ function: 3, address: 0, type: 'uint16' }, { function: 3, address: 10, type: 'uint16', name: 'bad', ...point }] as PointSetting[];
  refused({ points, ...(withSettings ? { with: withSettings } : {}) }, message);
}

test('unknown type, order or function', () => {
  refusedPoint({ type: 'float16' }, /points\[1\] 'bad': type unknown: "float16"/);
  refusedPoint({ order: 'ABDC' }, /points\[1\] 'bad': order unknown: "ABDC"/);
  refusedPoint({ function: 5 }, /points\[1\] 'bad': function out of range/);
  refusedPoint({ function: 0 }, /points\[1\] 'bad': function out of range/);
});

test('a point larger than max_registers', () => {
  refusedPoint({ type: 'float64' }, /points\[1\] 'bad': type exceeds max_registers/, { max_registers: 3 });
  refusedPoint({ type: 'string', length: 126 }, /points\[1\] 'bad': length exceeds max_registers/);
  refusedPoint({ type: 'string', length: 11 }, /points\[1\] 'bad': length exceeds max_registers/, { max_registers: 10 });
});

test('a string without length; a length on another type', () => {
  refusedPoint({ type: 'string' }, /points\[1\] 'bad': length missing/);
  refusedPoint({ type: 'string', length: 0 }, /points\[1\] 'bad': length out of range/);
  refusedPoint({ type: 'uint16', length: 2 }, /points\[1\] 'bad': length not for this type/);
});

test('a member that is null counts as absent, as the gateway writes length: null for non-strings', () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: 0, type: 'uint16', length: null }] });
  assert.deepEqual(plan(instance), [[0, 3, 0, 1]]);
  refusedPoint({ type: 'string', length: null }, /points\[1\] 'bad': length missing/);
});

test('bit on coils or discrete inputs, bit out of 0..15, bool on a register without bit, bit on a number', () => {
  refusedPoint({ function: 1, type: 'bool', bit: 3 }, /points\[1\] 'bad': bit not for function 1\/2/);
  refusedPoint({ function: 2, type: 'bool', bit: 0 }, /points\[1\] 'bad': bit not for function 1\/2/);
  refusedPoint({ type: 'bool', bit: 16 }, /points\[1\] 'bad': bit out of range/);
  refusedPoint({ type: 'bool', bit: -1 }, /points\[1\] 'bad': bit out of range/);
  refusedPoint({ type: 'bool' }, /points\[1\] 'bad': bit missing/);
  refusedPoint({ type: 'int16', bit: 2 }, /points\[1\] 'bad': bit not for this type/);
});

test('a type other than bool on coils or discrete inputs', () => {
  refusedPoint({ function: 1, type: 'uint16' }, /points\[1\] 'bad': type must be bool for function 1\/2/);
});

test('an address outside 0..65535, or a value running past 65535', () => {
  refusedPoint({ address: 65536 }, /points\[1\] 'bad': address out of range/);
  refusedPoint({ address: -1 }, /points\[1\] 'bad': address out of range/);
  refusedPoint({ address: 1.5 }, /points\[1\] 'bad': address out of range/);
  refusedPoint({ address: 65535, type: 'uint32' }, /points\[1\] 'bad': address runs past 65535/);
  refusedPoint({ address: 65533, type: 'float64' }, /points\[1\] 'bad': address runs past 65535/);
});

test('the last register and the last coil are readable', () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: 65532, type: 'float64' }, { function: 1, address: 65535, type: 'bool' }] });
  assert.deepEqual(plan(instance), [[0, 1, 65535, 1], [0, 3, 65532, 4]]);
});

test('a device index that is not in devices[]', () => {
  refusedPoint({ device: 1 }, /points\[1\] 'bad': device out of range/);
  refusedPoint({ device: -1 }, /points\[1\] 'bad': device out of range/);
});

test('a unit_id outside 0..255', () => {
  refused({ devices: [{ name: 'plc1', unit_id: 256 }], points: [] }, /devices\[0\] 'plc1': unit_id out of range/);
});

test('scale or offset on a bool or a string', () => {
  refusedPoint({ type: 'bool', bit: 0, scale: 2 }, /points\[1\] 'bad': scale not for this type/);
  refusedPoint({ type: 'string', length: 1, offset: 1 }, /points\[1\] 'bad': offset not for this type/);
  refusedPoint({ function: 1, type: 'bool', scale: 0.5 }, /points\[1\] 'bad': scale not for this type/);
  // The gateway's own defaults (scale 1, offset 0) are fine on any type.
  modbusDecoder({ points: [{ function: 1, address: 0, type: 'bool', scale: 1, offset: 0 }] });
});

test('the order defaults to ABCD and the unit id to 1', () => {
  const { instance } = modbusDecoder({ devices: [{ name: 'plc1' }], points: [{ function: 3, address: 0, type: 'int16' }] });
  assert.equal(instance.request(0, 1)[6], 1);
  assert.deepEqual(decodeRecords(instance, [answer(instance, 0, [0x03, 0x02, 0x01, 0x02])]).map((s) => s.value), [0x0102]);
});

test('the manifest is valid and its defaults are the protocol limits (spec 6.1-6.4: 2000 bits, 125 registers)', async () => {
  const result = await loadPluginManifest(join(REPO_ROOT, 'plugins', 'modbus'));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const filled: Record<string, unknown> = {};
  assert.deepEqual(result.plugin.validateSettings(filled), []);
  assert.deepEqual(filled, { max_registers: 125, max_bits: 2000, max_gap: 0 });
  // Enough adjacent registers and coils to hit both limits, and two registers a gap of 1 apart.
  const points: PointSetting[] = [
    ...Array.from({ length: 130 }, (_, i) => ({ function: 3, address: i, type: 'uint16' })),
    ...Array.from({ length: 2001 }, (_, i) => ({ function: 1, address: i, type: 'bool' })),
    { function: 4, address: 0, type: 'uint16' },
    { function: 4, address: 2, type: 'uint16' },
  ];
  assert.deepEqual(plan(modbusDecoder({ points, with: filled, withAsWritten: true }).instance),
    [[0, 1, 0, 2000], [0, 1, 2000, 1], [0, 3, 0, 125], [0, 3, 125, 5], [0, 4, 0, 1], [0, 4, 2, 1]]);
  // `transport` is gone: the framing is per device now, from its source (settings document `framing`).
  const refusedSettings = result.plugin.validateSettings({ transport: 'rtu', max_registers: 126, max_bits: 0, max_gap: -1, extra: 1 });
  assert.equal(refusedSettings.length, 5, JSON.stringify(refusedSettings));
});

// The defaults used to be kept in the plugin as well as in the manifest, two copies to keep equal.
// They live in the manifest only now: the gateway fills them in, so a document without them did not
// come from a gateway, and the plugin says which setting is missing instead of guessing.
test('with: settings the gateway always fills in are refused when missing, by name', () => {
  const points: PointSetting[] = [{ function: 3, address: 0, type: 'uint16' }];
  refused({ points, with: { max_bits: 2000, max_gap: 0 }, withAsWritten: true }, /with\.max_registers missing: the gateway fills in the manifest's default/);
  refused({ points, with: { max_registers: 125, max_gap: 0 }, withAsWritten: true }, /with\.max_bits missing/);
  refused({ points, with: { max_registers: 125, max_bits: 2000 }, withAsWritten: true }, /with\.max_gap missing/);
});
