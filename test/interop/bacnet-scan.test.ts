// `wasmgate scan bacnet` against devices of an independent stack: @bacnet-js/client serving two
// devices on two loopback addresses that share a port, as BACnet/IP devices share 47808 on a network,
// each also hearing the loopback broadcast address (test/support/bacnet-device.ts). Names, values and
// units are the tables below; the expected output is written from them by hand:
//   - a REAL travels as a float32: 68.4 arrives as 68.40000152587891, and the scan shows the shortest
//     decimal that is the same float32, 68.4; 21.5 = 43 / 2 is exact.
//   - units 64 degrees-fahrenheit, 98 percent and 95 no-units are in the gateway's table (si: degF,
//     %, none); 96 (parts-per-million) is not, and is shown as its number.
//   - binary-input 3's present value is enumerated active (1): a bool, shown as active.
// Device 1300 refuses its object-list read whole (Abort segmentation-not-supported, as a device whose
// list does not fit one APDU), so it is read by index: element 0 its length, then each element; and
// it rejects ReadPropertyMultiple (unrecognized-service), so its objects are read one ReadProperty
// per property. Device 1201 takes both: its list whole, each object's properties in one request.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/host/cli/main.js';
import { characterString, enumerated, freeUdpPort, real, startBacnetDevice, type BacnetDevice, type SimObject } from '../support/bacnet-device.js';
import { startBacnetRouter } from '../support/bacnet-router.js';
import { watBytes } from '../support/plugins.js';
import { scanInWorker } from '../../src/host/commission/bacnet-scan-run.js';
import { scanRequest } from '../../src/host/cli/scan-bacnet.js';
import { isWgError } from '../../src/host/errors.js';

const AHU: SimObject[] = [
  { type: 8, instance: 1201, properties: { 77: characterString('AHU 1') } },
  { type: 0, instance: 1, properties: { 77: characterString('supply-temp'), 85: real(68.4), 117: enumerated(64), 28: characterString('Supply air temperature') } },
  { type: 2, instance: 2, properties: { 77: characterString('damper'), 85: real(21.5), 117: enumerated(98) } },
  { type: 3, instance: 3, properties: { 77: characterString('fan status'), 85: enumerated(1) } },
];
const PLANT: SimObject[] = [
  { type: 8, instance: 1300, properties: { 77: characterString('plant') } },
  { type: 19, instance: 4, properties: { 77: characterString('mode'), 85: [{ type: 2, value: 3 }] } },
  { type: 1, instance: 7, properties: { 77: characterString('valve'), 85: real(12), 117: enumerated(95) } },
  { type: 0, instance: 9, properties: { 77: characterString('co2'), 85: real(415), 117: enumerated(96) } },
];

const BROADCAST = '127.255.255.255';
let port: number;
let ahu: BacnetDevice;
let plant: BacnetDevice;

before(async () => {
  // Free on every address, so that both devices and the broadcast address can take it.
  port = await freeUdpPort('0.0.0.0');
  ahu = await startBacnetDevice(1201, AHU, { address: '127.0.0.2', port, broadcastAddress: BROADCAST, vendorId: 555 });
  plant = await startBacnetDevice(1300, PLANT, { address: '127.0.0.3', port, broadcastAddress: BROADCAST, vendorId: 777, wholeObjectList: 'abort', readMultiple: false });
});
after(async () => {
  await ahu?.close();
  await plant?.close();
});

/**
 * Runs the command in this process (the scan itself runs in its worker). The APDU timeout is a
 * second: ample for a loopback device on a loaded machine, and each scan listens that long for I-Ams.
 */
async function scan(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['scan', 'bacnet', '--timeout', '1s', '--retries', '0', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const EXPECTED_DEVICES = [
  {
    instance: 1201, address: '127.0.0.2', port: 0, route: null, name: 'AHU 1', vendor: 555, segmentation: 'no-segmentation', objectCount: 4, objectListRead: 'whole', propertiesRead: 'ReadPropertyMultiple', truncated: false, unreadable: null,
    objects: [
      { type: 'analog-input', typeNumber: 0, instance: 1, name: 'supply-temp', presentValue: 68.4, units: { number: 64, bacnet: 'degrees-fahrenheit', si: 'degF' }, description: 'Supply air temperature', problems: [] },
      { type: 'analog-value', typeNumber: 2, instance: 2, name: 'damper', presentValue: 21.5, units: { number: 98, bacnet: 'percent', si: '%' }, description: null, problems: [] },
      { type: 'binary-input', typeNumber: 3, instance: 3, name: 'fan status', presentValue: true, units: null, description: null, problems: [] },
    ],
  },
  {
    instance: 1300, address: '127.0.0.3', port: 0, route: null, name: 'plant', vendor: 777, segmentation: 'no-segmentation', objectCount: 4,
    objectListRead: 'by index, the whole list refused: aborted: segmentation-not-supported', propertiesRead: 'ReadProperty', truncated: false, unreadable: null,
    objects: [
      { type: 'multi-state-value', typeNumber: 19, instance: 4, name: 'mode', presentValue: 3, units: null, description: null, problems: [] },
      { type: 'analog-output', typeNumber: 1, instance: 7, name: 'valve', presentValue: 12, units: { number: 95, bacnet: 'no-units', si: '' }, description: null, problems: [] },
      { type: 'analog-input', typeNumber: 0, instance: 9, name: 'co2', presentValue: 415, units: { number: 96 }, description: null, problems: [] },
    ],
  },
];

function expectedDevices() {
  return EXPECTED_DEVICES.map((d) => ({ ...d, port }));
}

test('--json: a broadcast Who-Is finds both devices, each object with its name, value and units', async () => {
  const { code, out } = await scan('--target', BROADCAST, '--port', String(port), '--json');
  assert.equal(code, 0);
  assert.equal(out.length, 1, 'one JSON document');
  const report = JSON.parse(out[0]!) as { broadcast: boolean; duplicates: unknown[]; devices: Array<Record<string, unknown>> };
  assert.equal(report.broadcast, true);
  assert.deepEqual(report.duplicates, []);
  // maxApdu is what bacnet-js announces (its transport's 1482-octet payload), not ours to expect.
  assert.deepEqual(report.devices.map(({ maxApdu: _, ...d }) => d), expectedDevices());
  assert.ok(ahu.requests.readPropertyMultiple >= 3, 'device 1201: one ReadPropertyMultiple per object');
  assert.ok(plant.requests.readProperty > plant.requests.readPropertyMultiple, 'device 1300: ReadProperty after its one rejected ReadPropertyMultiple');
});

test('text: objects grouped under their device, units as si and BACnet names', async () => {
  const { code, out } = await scan('--target', BROADCAST, '--port', String(port));
  assert.equal(code, 0);
  assert.equal(out[0], `Who-Is to ${BROADCAST}:${port} (broadcast): 2 devices answered`);
  assert.match(out[1]!, new RegExp(`^device 1201 "AHU 1" at 127\\.0\\.0\\.2:${port}, vendor 555, max APDU \\d+, no-segmentation; object-list of 4, read whole; properties by ReadPropertyMultiple$`));
  assert.match(out[2]!, /^ {2}analog-input 1 +supply-temp +68\.4 degF \(degrees-fahrenheit\) +"Supply air temperature"$/);
  assert.match(out[3]!, /^ {2}analog-value 2 +damper +21\.5 % \(percent\)$/);
  assert.match(out[4]!, /^ {2}binary-input 3 +fan status +active$/);
  assert.match(out[5]!, /^device 1300 "plant" at 127\.0\.0\.3:\d+, vendor 777, .*object-list of 4, read by index, the whole list refused: aborted: segmentation-not-supported; properties by ReadProperty$/);
  assert.match(out[6]!, /^ {2}multi-state-value 4 +mode +3$/);
  assert.match(out[7]!, /^ {2}analog-output 7 +valve +12 \(no-units\)$/);
  assert.match(out[8]!, /^ {2}analog-input 9 +co2 +415 \(units 96\)$/);
  assert.equal(out.length, 9);
});

test('--low/--high: the Who-Is carries the range, and only the device inside it answers', async () => {
  const { code, out } = await scan('--target', BROADCAST, '--port', String(port), '--low', '1250', '--high', '1350', '--json');
  assert.equal(code, 0);
  const report = JSON.parse(out[0]!) as { range: unknown; devices: Array<{ instance: number }> };
  assert.deepEqual(report.range, { low: 1250, high: 1350 });
  assert.deepEqual(report.devices.map((d) => d.instance), [1300]);
});

test('--max-devices and --max-objects: the first ones read, the rest said to be left', async () => {
  const { code, out } = await scan('--target', BROADCAST, '--port', String(port), '--max-objects', '1', '--json');
  assert.equal(code, 0);
  const report = JSON.parse(out[0]!) as { devicesTruncated: boolean; devices: Array<{ instance: number; truncated: boolean; objects: Array<{ name: string }> }> };
  // 1201's list read whole and cut; 1300's read by index, stopping after its first object.
  assert.deepEqual(report.devices.map((d) => [d.instance, d.truncated, d.objects.map((o) => o.name)]), [[1201, true, ['supply-temp']], [1300, true, ['mode']]]);
  const fewer = await scan('--target', BROADCAST, '--port', String(port), '--max-devices', '1', '--json');
  const devices = JSON.parse(fewer.out[0]!) as { devicesTruncated: boolean; devices: unknown[] };
  assert.equal(devices.devicesTruncated, true);
  assert.equal(devices.devices.length, 1);
});

test('two devices with one instance (a copied configuration): the second is reported, not merged', async () => {
  const shared = await freeUdpPort('0.0.0.0');
  const first = await startBacnetDevice(2222, AHU.slice(1, 2), { address: '127.0.0.5', port: shared, broadcastAddress: BROADCAST });
  const copy = await startBacnetDevice(2222, AHU.slice(2, 3), { address: '127.0.0.6', port: shared, broadcastAddress: BROADCAST });
  try {
    const { code, out } = await scan('--target', BROADCAST, '--port', String(shared), '--json');
    assert.equal(code, 0);
    const report = JSON.parse(out[0]!) as { devices: Array<{ instance: number; address: string }>; duplicates: Array<{ instance: number; address: string; port: number; route: null }> };
    assert.equal(report.devices.length, 1);
    assert.equal(report.duplicates.length, 1);
    assert.equal(report.duplicates[0]!.instance, 2222);
    assert.equal(report.duplicates[0]!.port, shared);
    assert.deepEqual([report.devices[0]!.address, report.duplicates[0]!.address].sort(), ['127.0.0.5', '127.0.0.6']);
    const text = await scan('--target', BROADCAST, '--port', String(shared));
    assert.match(text.out.at(-1)!, new RegExp(`^device instance 2222 answered from 127\\.0\\.0\\.[56]:${shared} too: a device instance must be unique on a BACnet internetwork \\(not read\\)$`));
  } finally {
    await first.close();
    await copy.close();
  }
});

test('one device by its address: only that one', async () => {
  const { code, out } = await scan('--target', `127.0.0.2:${port}`, '--json');
  assert.equal(code, 0);
  const report = JSON.parse(out[0]!) as { broadcast: boolean; devices: Array<{ instance: number }> };
  assert.equal(report.broadcast, false);
  assert.deepEqual(report.devices.map((d) => d.instance), [1201]);
});

test('a device that answers Who-Is but not ReadProperty: listed, and said so', async () => {
  const silent = await startBacnetDevice(4000, AHU.slice(1));
  try {
    silent.setMode('silent');
    const text = await scan('--target', `127.0.0.1:${silent.port}`);
    assert.equal(text.code, 0, 'a device answered the Who-Is');
    assert.equal(text.out[0], `Who-Is to 127.0.0.1:${silent.port}: 1 device answered`);
    assert.match(text.out[1]!, /^device 4000 at 127\.0\.0\.1:\d+, .*: answered Who-Is, but not ReadProperty of its object-list: no answer within 1000 ms \(1 attempt\)$/);
    const json = await scan('--target', `127.0.0.1:${silent.port}`, '--json');
    const [device] = (JSON.parse(json.out[0]!) as { devices: Array<{ instance: number; unreadable: string; objects: unknown[] }> }).devices;
    assert.equal(device!.instance, 4000);
    assert.match(device!.unreadable, /answered Who-Is, but not ReadProperty/);
    assert.deepEqual(device!.objects, []);
    assert.ok(silent.requests.readProperty >= 1, 'the device was asked');
  } finally {
    await silent.close();
  }
});

test('a device behind a BACnet router: found by the global Who-Is, read through the router', async () => {
  // An MS/TP station 12 = 0x0c on network 5, behind a router (test/support/bacnet-router.ts).
  const station = await startBacnetDevice(5001, [{ type: 0, instance: 1, properties: { 77: characterString('zone-temp'), 85: real(21.5), 117: enumerated(62) } }]);
  const router = await startBacnetRouter(5, 0x0c, station.port);
  try {
    const { code, out } = await scan('--target', `127.0.0.1:${router.port}`, '--json');
    assert.equal(code, 0);
    const [device] = (JSON.parse(out[0]!) as { devices: Array<Record<string, unknown>> }).devices;
    assert.deepEqual({ ...device, maxApdu: undefined }, {
      instance: 5001, address: '127.0.0.1', port: router.port, route: { network: 5, mac: '0c' }, name: 'sim-5001', vendor: 555, maxApdu: undefined,
      segmentation: 'no-segmentation', objectCount: 2, objectListRead: 'whole', propertiesRead: 'ReadPropertyMultiple', truncated: false, unreadable: null,
      // 62: degrees-celsius, si's degC.
      objects: [{ type: 'analog-input', typeNumber: 0, instance: 1, name: 'zone-temp', presentValue: 21.5, units: { number: 62, bacnet: 'degrees-celsius', si: 'degC' }, description: null, problems: [] }],
    });
    assert.ok(router.routed.toDevice > 0 && router.routed.fromDevice > 0, 'every exchange went through the router');
    const text = await scan('--target', `127.0.0.1:${router.port}`);
    assert.match(text.out[1]!, new RegExp(`^device 5001 "sim-5001" at 127\\.0\\.0\\.1:${router.port} via network 5 MAC 0c, `));
    // The bacnet_ip source reaches devices on the IP network only: the pipeline leaves this one out, and says so.
    const yaml = await scan('--target', `127.0.0.1:${router.port}`, '--pipeline-yaml');
    assert.match(yaml.out.join('\n'), /No device with points the bacnet_ip source can read \(see stderr\): no pipeline/);
    assert.match(yaml.err.join('\n'), /device 5001 \(behind a router/);
    // A Who-Is kept to the IP network does not pass the router.
    const local = await scan('--target', `127.0.0.1:${router.port}`, '--local');
    assert.equal(local.code, 1);
  } finally {
    await router.close();
    await station.close();
  }
});

test('an object-list whose length the device cannot back: the scan stops after three refused elements', async () => {
  // Two objects (its device object and analog-input 1), but it claims 1000 at index 0 and refuses
  // elements 3, 4 and 5 with invalid-array-index.
  const liar = await startBacnetDevice(4100, AHU.slice(1, 2), { wholeObjectList: 'abort', claimedObjectListLength: 1000 });
  try {
    const { code, out } = await scan('--target', `127.0.0.1:${liar.port}`, '--json');
    assert.equal(code, 0);
    const [device] = (JSON.parse(out[0]!) as { devices: Array<{ objectCount: number; unreadable: string; objects: Array<{ name: string }> }> }).devices;
    assert.equal(device!.objectCount, 1000);
    assert.deepEqual(device!.objects.map((o) => o.name), ['supply-temp']);
    assert.equal(device!.unreadable, 'refused object-list elements 3 to 5 of 1000: error property invalid-array-index');
    // Whole (aborted), index 0, elements 1 to 5, the device's name, one ReadPropertyMultiple for its object.
    assert.equal(liar.requests.readProperty, 8);
  } finally {
    await liar.close();
  }
});

test('nothing answers: exit 1, and the line says none did', async () => {
  const nobody = await freeUdpPort();
  const { code, out } = await scan('--target', `127.0.0.1:${nobody}`);
  assert.equal(code, 1);
  assert.deepEqual(out, [`Who-Is to 127.0.0.1:${nobody}: 0 devices answered`]);
});

test('a local port another program holds: exit 1, WG_ERR_HAL_CONNECT naming it', async () => {
  const holder = createSocket('udp4');
  holder.bind(0, '0.0.0.0');
  await once(holder, 'listening');
  try {
    const held = holder.address().port;
    const { code, err } = await scan('--target', `127.0.0.2:${port}`, '--local-port', String(held));
    assert.equal(code, 1);
    assert.match(err.join('\n'), new RegExp(`cannot connect to the scan's UDP socket: listen 0\\.0\\.0\\.0:${held}: .*EADDRINUSE.*\\[WG_ERR_HAL_CONNECT\\]`));
  } finally {
    holder.close();
  }
});

test('a scan codec that never returns is stopped by the watchdog: WG_ERR_PLUGIN_TIMEOUT, not a hang', async () => {
  // test/fixtures/plugins/scan-codec-loop-decode.wat spins in scan_decode, so the I-Am that device
  // 1201 sends back never decodes.
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-scan-codec-'));
  try {
    const codecFile = join(dir, 'scan.wasm');
    await writeFile(codecFile, watBytes('scan-codec-loop-decode'));
    const request = scanRequest({ target: `127.0.0.2:${port}`, port: '47808', timeout: '300ms', retries: '0', maxDevices: '10', maxObjects: '10', localPort: '0' });
    await assert.rejects(scanInWorker(request, { codecFile, startMarginMs: 3000 }), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_TIMEOUT') && /no progress for 3300 ms/.test((err as Error).message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2, naming the option', async () => {
  const errors: Array<[string[], RegExp]> = [
    [['--target', BROADCAST, '--low', '5'], /--low and --high go together/],
    [['--target', BROADCAST, '--low', '9', '--high', '5'], /--low 9 is above --high 5/],
    [['--target', BROADCAST, '--timeout', 'soon'], /--timeout soon/],
    [[], /--target .* is required/],
    [['--target', BROADCAST, '--json', '--pipeline-yaml'], /--json or --pipeline-yaml/],
    [['--target', '[::1]:47808'], /BACnet\/IPv6 \(Annex U\) is not supported/],
  ];
  for (const [args, message] of errors) {
    const { code, err } = await scan(...args);
    assert.equal(code, 2, args.join(' '));
    assert.match(err.join('\n'), message, args.join(' '));
  }
});

test('--pipeline-yaml: a pipeline of the points found, which wasmgate validate accepts', async () => {
  const { code, out } = await scan('--target', BROADCAST, '--port', String(port), '--pipeline-yaml');
  assert.equal(code, 0);
  const yaml = out.join('\n');
  // Names the config accepts, made from the devices' and objects' names ("AHU 1" -> AHU-1).
  assert.match(yaml, /- name: AHU-1\n\s+host: 127\.0\.0\.2\n\s+port: \d+\n\s+device_instance: 1201/);
  assert.match(yaml, /- name: supply-temp\n\s+object_type: analog-input\n\s+instance: 1\n\s+unit: degrees-fahrenheit/);
  assert.match(yaml, /- name: fan-status\n\s+object_type: binary-input\n\s+instance: 3\n/);
  assert.match(yaml, /- name: co2\n\s+object_type: analog-input\n\s+instance: 9\n(?!\s+unit)/, 'units 96 has no si name: no unit');
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-scan-bacnet-'));
  try {
    await writeFile(join(dir, 'scan.yaml'), yaml);
    await writeFile(join(dir, 'gateway.yaml'), `gateway:\n  id: site\n  data_dir: ./data\nuplinks:\n  cloud:\n    mqtt:\n      url: mqtt://127.0.0.1:1\npipelines:\n  - ./scan.yaml\n`);
    const lines: string[] = [];
    const validated = await main(['validate', '--config', join(dir, 'gateway.yaml')], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    assert.equal(validated, 0, lines.join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
