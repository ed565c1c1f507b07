/**
 * The cross-architecture check (docs/cross-architecture.md): every built plugin runs a fixed-seed set
 * of vectors through the plugin harness (`wasmgate/plugin-harness`, the one plugin authors use), and
 * all its output bytes go into a SHA-256 digest. The same plugins must give the same digest on every
 * processor; test/fixtures/plugin-digest.json holds the reference.
 *
 * Run as a program (it needs only Node and the built tree, so it also runs under another
 * architecture's Node, e.g. in qemu-user):
 *   node dist/test/support/plugin-digest.js            prints each plugin's digest, compares with the reference
 *   node dist/test/support/plugin-digest.js --write    writes the reference (after a deliberate change)
 * It exits 1 when a digest differs from the reference.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlugin, encodeFrameBatch, type PluginInstance } from '../../src/host/engine/harness.js';
import { listPluginDirs, wasmPathOf } from '../../src/host/plugin-build/build.js';
import { manifestDefaults } from './manifest-defaults.js';
import { REPO_ROOT } from './plugins.js';

export const REFERENCE_PATH = join(REPO_ROOT, 'test', 'fixtures', 'plugin-digest.json');

export interface PluginDigest {
  sha256: string;
  /** Calls whose output went into the digest. */
  calls: number;
  /** Output bytes that went into it. */
  bytes: number;
}

// ---------------------------------------------------------------- vectors

/** mulberry32: a fixed-seed 32-bit generator, the same numbers on every machine. */
function generator(seed: number) {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { u32, int: (n: number) => u32() % n, bits: () => (BigInt(u32()) << 32n) | BigInt(u32()) };
}

/**
 * Doubles as bit patterns (a JS number may not keep a NaN's payload): ±0, subnormals, the normal
 * extremes, ±Infinity, NaNs with either sign, quiet and signalling, with and without a payload, and
 * ordinary values; then random bit patterns.
 */
function specialBits(): bigint[] {
  const fixed = [
    0x0000000000000000n, 0x8000000000000000n, // ±0
    0x0000000000000001n, 0x8000000000000001n, 0x000fffffffffffffn, 0x0008000000000000n, // subnormals
    0x0010000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7fe0000000000000n, // least normal, ±max, 2^1023
    0x7ff0000000000000n, 0xfff0000000000000n, // ±Infinity
    0x7ff8000000000000n, 0xfff8000000000000n, // quiet NaN, both signs
    0x7ff8000000000001n, 0xfffc0000deadbeefn, 0x7ff0000000000001n, 0xfff7ffffffffffffn, // payloads, quiet and signalling
    0x3ff0000000000000n, 0xbff0000000000000n, 0x3fb999999999999an, 0x4059000000000000n, // 1, -1, 0.1, 100
  ];
  const g = generator(12);
  return [...fixed, ...Array.from({ length: 40 }, () => g.bits())];
}

function f64(bits: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, bits, true);
  return b;
}

/**
 * A sample batch whose values are written as raw bits. `values[i]` is [point, bits, quality, type,
 * aggregate]; timestamps are `t0 + i * step`.
 */
function sampleBatch(rows: Array<[number, bigint, number, number, number]>, t0: number, step: number): Uint8Array {
  const out = new Uint8Array(8 + rows.length * 24);
  const view = new DataView(out.buffer);
  view.setUint32(0, rows.length, true);
  rows.forEach(([point, bits, quality, type, aggregate], i) => {
    const at = 8 + i * 24;
    view.setFloat64(at, t0 + i * step, true);
    view.setBigUint64(at + 8, bits, true);
    view.setUint32(at + 16, point, true);
    view.setUint8(at + 20, quality);
    view.setUint8(at + 21, type);
    view.setUint8(at + 22, aggregate);
  });
  return out;
}

/** Batches for a transform or encoder over `points` points: every special double on every point, then random ones. */
function sampleVectors(points: number, seed: number): Uint8Array[] {
  const g = generator(seed);
  const specials = specialBits();
  const batches: Uint8Array[] = [];
  const T0 = 1_700_000_000_000;
  // Each special on each point, good, then the same suspect; bools 0 and 1; a few aggregates.
  for (let round = 0; round < 4; round++) {
    const rows: Array<[number, bigint, number, number, number]> = [];
    for (const bits of specials) {
      for (let p = 0; p < points; p++) rows.push([p, bits, round === 1 ? 1 : round === 3 ? 2 : 0, 0, round === 2 ? 1 + (p % 7) : 0]);
    }
    rows.push([0, 0x3ff0000000000000n, 0, 1, 0], [1 % points, 0n, 0, 1, 0]);
    batches.push(sampleBatch(rows, T0 + round * 60_000, 7));
  }
  // Huge finite values whose sums overflow, for good (MAX + MAX), and for a while (MAX + MAX - MAX).
  const MAX = 0x7fefffffffffffffn;
  const hugeRows: Array<[number, bigint, number, number, number]> = [];
  for (let p = 0; p < points; p++) {
    const run = p % 2 === 0 ? [MAX, MAX, 0xffefffffffffffffn, 0x3ff0000000000000n] : [0xffefffffffffffffn, 0xffefffffffffffffn, 0x7fe1ccf385ebc8a0n /* 1e308 */];
    for (const bits of run) hugeRows.push([p, bits, 0, 0, 0]);
  }
  batches.push(sampleBatch(hugeRows, T0 + 250_000, 3));
  // Random values in ordinary ranges (where filters and buckets do their work), a special now and then.
  for (let b = 0; b < 20; b++) {
    const rows: Array<[number, bigint, number, number, number]> = [];
    for (let i = 0; i < 50; i++) {
      const x = (g.u32() / 2 ** 32 - 0.5) * 10 ** (g.int(7) - 2) + 20;
      const bits = g.int(10) === 0 ? specials[g.int(specials.length)]! : new DataView(new Float64Array([x]).buffer).getBigUint64(0, true);
      rows.push([g.int(points), bits, g.int(8) === 0 ? 1 : 0, 0, 0]);
    }
    batches.push(sampleBatch(rows, T0 + 400_000 + b * 70_000, 40)); // each batch after the tick before it
  }
  return batches;
}

// ---------------------------------------------------------------- the plugins

interface Run {
  calls: number;
  bytes: number;
  hash: ReturnType<typeof createHash>;
}

function record(run: Run, output: Uint8Array | number): void {
  const bytes = typeof output === 'number' ? f64(BigInt(output)) : output;
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, bytes.byteLength, true);
  run.hash.update(length);
  run.hash.update(bytes);
  run.calls++;
  run.bytes += bytes.byteLength;
}

/** A configured built plugin: settings are the step's `with:` with the manifest's defaults filled in. */
async function load(name: string, settings: Record<string, unknown>, points: Array<Record<string, unknown> & { name: string }>, devices: unknown[] = []): Promise<PluginInstance> {
  const { withDefaults } = await manifestDefaults(name);
  return loadPlugin(wasmPathOf(join(REPO_ROOT, 'plugins', name)), { with: withDefaults(settings), points, devices }).instance;
}

const POINTS = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, unit: 'degC' }));

/** A transform or encoder: every sample batch, and ticks after each where the plugin has wg_tick. */
async function runSamples(run: Run, instance: PluginInstance, ticks: boolean): Promise<void> {
  let t = 1_700_000_000_000;
  for (const batch of sampleVectors(POINTS.length, 99)) {
    // A transform may answer "unchanged": then its output is its input, which is what goes on.
    const out = instance.process(batch);
    record(run, out);
    if (ticks) {
      t += 61_000;
      record(run, instance.tick(t));
    }
  }
  if (ticks) record(run, instance.tick(Infinity));
}

// Modbus: a point of every type in every word order, on holding registers, each its own registers.
const TYPES: Array<[string, number]> = [
  ['int16', 1], ['uint16', 1], ['int32', 2], ['uint32', 2], ['float32', 2], ['int64', 4], ['uint64', 4], ['float64', 4],
];
const ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

/** Register words of a value's big-endian bytes in a word order (docs/plugins.md, modbus `order`). */
function wordsInOrder(bytes: Uint8Array, order: string): number[] {
  let words = Array.from({ length: bytes.length / 2 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  if (order === 'CDAB' || order === 'DCBA') words = words.reverse();
  if (order === 'BADC' || order === 'DCBA') words = words.map((w) => ((w & 0xff) << 8) | (w >> 8));
  return words;
}

async function runModbus(run: Run): Promise<void> {
  const points: Array<Record<string, unknown> & { name: string }> = [];
  let address = 0;
  for (const [type, span] of TYPES) {
    for (const order of ORDERS) {
      points.push({ name: `${type}.${order}`, function: 3, address, type, order, unit: '' });
      address += span;
    }
  }
  // Scaled points: 0 × ±Infinity is a fresh NaN; a huge scale overflows; an ordinary one rounds.
  points.push({ name: 'f64.scale0', function: 3, address, type: 'float64', order: 'ABCD', scale: 0, offset: 0, unit: '' });
  points.push({ name: 'f64.huge', function: 3, address: address + 4, type: 'float64', order: 'ABCD', scale: 1.7976931348623157e308, offset: 0, unit: '' });
  points.push({ name: 'f32.scaled', function: 3, address: address + 8, type: 'float32', order: 'CDAB', scale: 0.1, offset: -40, unit: '' });
  points.push({ name: 'bit3', function: 3, address: address + 10, type: 'bool', bit: 3, unit: '' });
  points.push({ name: 'text', function: 3, address: address + 11, type: 'string', length: 4, unit: '' });
  points.push({ name: 'coil', function: 1, address: 0, type: 'bool', unit: '' });
  const registers = address + 15;
  const { withDefaults } = await manifestDefaults('modbus');
  const devices = [{ index: 0, name: 'plc1', unit_id: 1, host: '127.0.0.1', port: 502 }];
  const { instance } = loadPlugin(wasmPathOf(join(REPO_ROOT, 'plugins', 'modbus')), {
    with: withDefaults({}),
    points: points.map((p) => ({ device: 0, ...p })),
    devices,
  });
  const plan = [...instance.requests()].map((device, r) => {
    const frame = instance.request(r, 1);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    return { device, r, fn: frame[7]!, start: view.getUint16(8), quantity: view.getUint16(10) };
  });
  const g = generator(31);
  const specials = specialBits();
  for (let round = 0; round < 2 * specials.length; round++) {
    const words = Array.from({ length: registers }, () => g.u32() & 0xffff);
    for (const p of points) {
      const type = p.type as string;
      if (type !== 'float32' && type !== 'float64') continue;
      const bits = specials[(round + (p.address as number)) % specials.length]!;
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, bits);
      // A float32 takes the double's sign, exponent and top of its fraction: its own specials.
      const value = type === 'float64' ? bytes : bytes.subarray(0, 4);
      wordsInOrder(value, p.order as string).forEach((w, i) => { words[(p.address as number) + i] = w; });
    }
    const records = plan.map(({ device, r, fn, start, quantity }, i) => {
      const seq = (round * 16 + i) & 0xffff;
      const request = instance.request(r, seq);
      const ctx = { device, request: r, status: 0, seq, ts: 1_700_000_000_000 + round * 1000 };
      if (round % 9 === 8 && i === 0) return { ctx: { ...ctx, status: 1 }, request }; // a timeout: NaN, no-comm
      const data = fn === 1 ? Array.from({ length: Math.ceil(quantity / 8) }, () => g.u32() & 0xff)
        : words.slice(start, start + quantity).flatMap((w) => [w >> 8, w & 0xff]);
      const pdu = [fn, data.length, ...data];
      const response = new Uint8Array(7 + pdu.length);
      const view = new DataView(response.buffer);
      view.setUint16(0, seq);
      view.setUint16(4, 1 + pdu.length);
      response[6] = request[6]!;
      response.set(pdu, 7);
      return { ctx, request, response };
    });
    record(run, instance.process(encodeFrameBatch(records)));
  }
}

/**
 * bacnet: one ReadPropertyMultiple of a REAL, a Double, a binary present value and a bit string, whose
 * REAL and Double take the special bit patterns (a REAL the top half of each), then the same answer cut
 * short at every length, which must give bad samples the same way everywhere.
 */
async function runBacnet(run: Run): Promise<void> {
  const { instance } = loadPlugin(wasmPathOf(join(REPO_ROOT, 'plugins', 'bacnet')), {
    with: (await manifestDefaults('bacnet')).withDefaults({}),
    devices: [{ index: 0, name: 'ahu', device_instance: 7, host: '127.0.0.1', port: 47808 }],
    points: [
      { id: 0, name: 'real', device: 0, object_type: 0, instance: 1, property: 85, unit: '' },
      { id: 1, name: 'double', device: 0, object_type: 2, instance: 2, property: 85, unit: '' },
      { id: 2, name: 'bool', device: 0, object_type: 3, instance: 3, property: 85, unit: '' },
      { id: 3, name: 'flags', device: 0, object_type: 0, instance: 1, property: 111, unit: '' },
    ],
  });
  const g = generator(47);
  const specials = specialBits();
  const result = (property: number, value: number[]) => [0x29, property, 0x4e, ...value, 0x4f];
  for (let round = 0; round < 2 * specials.length; round++) {
    const bits = new Uint8Array(8);
    new DataView(bits.buffer).setBigUint64(0, specials[round % specials.length]!);
    const seq = round & 0xff;
    const apdu = [
      0x30, seq, 0x0e,
      0x0c, 0x00, 0x00, 0x00, 0x01, 0x1e, ...result(85, [0x44, ...bits.subarray(0, 4)]), ...result(111, [0x82, 0x04, g.u32() & 0xf0]), 0x1f,
      0x0c, 0x00, 0x80, 0x00, 0x02, 0x1e, ...result(85, [0x55, 0x08, ...bits]), 0x1f,
      0x0c, 0x00, 0xc0, 0x00, 0x03, 0x1e, ...result(85, [0x91, g.u32() & 1]), 0x1f,
    ];
    const cut = round < specials.length ? apdu.length : 3 + (round % (apdu.length - 3));
    const length = 6 + cut;
    const response = Uint8Array.from([0x81, 0x0a, length >> 8, length & 0xff, 0x01, 0x00, ...apdu.slice(0, cut)]);
    const request = instance.request(0, seq);
    record(run, instance.process(encodeFrameBatch([{ ctx: { device: 0, request: 0, status: 0, seq, ts: 1_700_000_000_000 + round * 1000 }, request, response }])));
  }
}

/**
 * payload: CBOR doubles and halves of the special bit patterns (NaN payloads must come out as the one
 * canonical NaN everywhere), every 97th half-float, and JSON numbers of random digits, pushed to a
 * point's resource; then a device object naming both points.
 */
async function runPayload(run: Run): Promise<void> {
  const { instance } = loadPlugin(wasmPathOf(join(REPO_ROOT, 'plugins', 'payload')), {
    with: (await manifestDefaults('payload')).withDefaults({}),
    devices: [{ index: 0, name: 'sensor', framing: 'push', endpoint: 'udp 127.0.0.1:5683' }],
    points: [{ id: 0, name: 'a', device: 0, unit: '' }, { id: 1, name: 'b', device: 0, unit: '' }],
  });
  const g = generator(53);
  const pushed = (body: Uint8Array, media: string, point: number) => ({
    ctx: { device: 0, request: 0xffff, status: 4, seq: 0, ts: 1_700_000_000_000, point },
    request: new TextEncoder().encode(`127.0.0.1:40000\n/a\n${media}`),
    response: body,
  });
  const bodies = specialBits().map((b) => {
    const bytes = new Uint8Array(9);
    bytes[0] = 0xfb;
    new DataView(bytes.buffer).setBigUint64(1, b);
    return pushed(bytes, 'application/cbor', 0);
  });
  for (let half = 0; half < 0x10000; half += 97) bodies.push(pushed(Uint8Array.from([0xf9, half >> 8, half & 0xff]), 'application/cbor', 1));
  for (let i = 0; i < 64; i++) bodies.push(pushed(new TextEncoder().encode(`${g.u32() % 2 ? '-' : ''}${g.u32()}.${g.u32()}e${(g.u32() % 40) - 20}`), 'application/json', 0));
  bodies.push(pushed(new TextEncoder().encode('{"a": {"value": 1.5, "ts": 1700000000123.25, "quality": "suspect"}, "b": true}'), '', 0xffffffff));
  for (let i = 0; i < bodies.length; i += 16) record(run, instance.process(encodeFrameBatch(bodies.slice(i, i + 16))));
}

/** Each built-in plugin's vectors and settings. A plugin without an entry fails the check. */
const DRIVERS: Record<string, (run: Run) => Promise<void>> = {
  modbus: runModbus,
  bacnet: runBacnet,
  payload: runPayload,
  scale: async (run) => {
    const instance = await load('scale', {
      points: {
        a: { factor: 0, offset: 0, unit: 'x' }, // 0 × ±Infinity
        b: { factor: 0.1, offset: -40, unit: 'x' },
        c: { factor: -1.7976931348623157e308, offset: 1, unit: 'x' }, // overflows
        d: { factor: 122.84861481748521, offset: 2.2250738585072014e-308, unit: 'x' },
      },
    }, POINTS);
    await runSamples(run, instance, false);
  },
  si: async (run) => {
    const points = [{ name: 'a', unit: 'degC' }, { name: 'b', unit: 'degF' }, { name: 'c', unit: 'mbar' }, { name: 'd', unit: 'psi' }, { name: 'e', unit: 'l/min' }];
    await runSamples(run, await load('si', {}, points), false);
  },
  deadband: async (run) => {
    const instance = await load('deadband', { absolute: 0.5, heartbeat: 120000, points: { b: { percent: 1 }, c: { absolute: 0 } } }, POINTS);
    await runSamples(run, instance, true);
  },
  outlier: async (run) => {
    const instance = await load('outlier', { points: { b: { method: 'hampel' }, c: { method: 'none' } } }, POINTS);
    await runSamples(run, instance, false);
  },
  anomaly: async (run) => {
    const instance = await load('anomaly', { warmup: 5, h: 2, points: { b: { alpha: 0.1 }, c: { min_deviation: 0.5 } } }, POINTS);
    await runSamples(run, instance, false);
  },
  resample: async (run) => {
    const instance = await load('resample', { bucket: 10000, aggregates: ['mean', 'min', 'max', 'first', 'last', 'count', 'sum'] }, POINTS);
    await runSamples(run, instance, true);
  },
  json: async (run) => {
    const devices = [{ index: 0, name: 'plc1', host: '127.0.0.1', port: 502 }];
    const instance = loadPlugin(wasmPathOf(join(REPO_ROOT, 'plugins', 'json')), {
      with: (await manifestDefaults('json')).withDefaults({}), points: POINTS, devices,
    }).instance;
    await runSamples(run, instance, false);
  },
};

/** The digest of every built plugin's output on the vectors, by plugin name. */
export async function pluginDigests(): Promise<Record<string, PluginDigest>> {
  const digests: Record<string, PluginDigest> = {};
  for (const dir of await listPluginDirs()) {
    const name = basename(dir);
    const driver = DRIVERS[name];
    if (!driver) throw new Error(`no digest vectors for plugin ${name}: add a driver in test/support/plugin-digest.ts`);
    const run: Run = { calls: 0, bytes: 0, hash: createHash('sha256') };
    await driver(run);
    digests[name] = { sha256: run.hash.digest('hex'), calls: run.calls, bytes: run.bytes };
  }
  return digests;
}

export function readReference(): Record<string, PluginDigest> {
  return (JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as { plugins: Record<string, PluginDigest> }).plugins;
}

async function main(): Promise<void> {
  const digests = await pluginDigests();
  const where = `${process.arch}, Node ${process.version}`;
  if (process.argv.includes('--write')) {
    const doc = {
      about: 'SHA-256 of every built plugin\'s output on the vectors of test/support/plugin-digest.ts (docs/cross-architecture.md)',
      made_on: where,
      plugins: digests,
    };
    writeFileSync(REFERENCE_PATH, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${REFERENCE_PATH} (${where})`);
    return;
  }
  const reference = readReference();
  let same = true;
  for (const [name, d] of Object.entries(digests)) {
    const ok = reference[name]?.sha256 === d.sha256;
    same &&= ok;
    console.log(`${ok ? 'same     ' : 'DIFFERENT'} ${name.padEnd(9)} ${d.sha256} (${d.calls} calls, ${d.bytes} bytes)`);
  }
  console.log(`${where}: ${same ? 'every digest equals the reference' : 'digests differ from the reference'}`);
  process.exitCode = same ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
