/** Template of `wasmgate plugin new NAME --kind decoder`: a minimal polled decoder (Modbus TCP, FC3, int16). */
export const decoderSource = `// {{name}}: a minimal Modbus TCP decoder: one FC3 request per point, one int16 register each.
// Written by \`wasmgate plugin new\` as a starting point for the decoder of a polled protocol: the
// polling group (wg_requests, wg_request, wg_frame_length) builds requests and finds frame ends on the
// host's I/O thread; wg_process turns the frames into samples in the pipeline worker.
import {
  input, reserveOutput, setResult, SampleWriter, FrameReader, readSettings, fail,
  OK, BAD_SETTINGS, BAD_FRAME, OUT_OF_RANGE, GOOD, BAD, NO_COMM, TYPE_NUMBER, AGG_RAW,
} from "{{sdk}}";
export { wasmgate_abi_v1, wg_input, wg_output } from "{{sdk}}";

let addresses = new StaticArray<u16>(0);
let unitIds = new StaticArray<u8>(0);
let deviceOf = new StaticArray<u32>(0);
const samples = new SampleWriter();
const frames = new FrameReader();

export function wg_configure(size: i32): i32 {
  const settings = readSettings(size);
  if (settings === null) return BAD_SETTINGS;
  const n = settings.pointCount;
  addresses = new StaticArray<u16>(n);
  unitIds = new StaticArray<u8>(n);
  deviceOf = new StaticArray<u32>(n);
  for (let i = 0; i < n; i++) {
    const p = settings.point(i);
    const address = p.number("address", -1);
    if (!(address >= 0 && address <= 65535)) {
      fail("points[" + i.toString() + "].address: must be 0..65535");
      return BAD_SETTINGS;
    }
    const device = <i32>p.number("device", 0);
    addresses[i] = <u16>address;
    deviceOf[i] = <u32>device;
    unitIds[i] = <u8>settings.devices.at(device).number("unit_id", 1);
  }
  return OK;
}

/** The plan: request i reads point i, on the point's device. */
export function wg_requests(): i32 {
  const n = addresses.length;
  const out = reserveOutput(n * 4, 0);
  for (let i = 0; i < n; i++) store<u32>(out + <usize>i * 4, deviceOf[i]);
  setResult(out);
  return n;
}

/** MBAP header (transaction id = seq) + PDU "read 1 holding register". */
export function wg_request(index: i32, seq: i32): i32 {
  if (index < 0 || index >= addresses.length) return OUT_OF_RANGE;
  const out = reserveOutput(12, 0);
  const address = addresses[index];
  store<u8>(out, <u8>(seq >> 8), 0);
  store<u8>(out, <u8>seq, 1);
  store<u16>(out, 0, 2); // protocol id 0
  store<u8>(out, 0, 4);
  store<u8>(out, 6, 5); // length of unit id + PDU
  store<u8>(out, unitIds[index], 6);
  store<u8>(out, 3, 7); // function 3
  store<u8>(out, <u8>(address >> 8), 8);
  store<u8>(out, <u8>address, 9);
  store<u8>(out, 0, 10);
  store<u8>(out, 1, 11); // quantity 1
  setResult(out);
  return 12;
}

/** 0: need more bytes; n: a frame of n bytes; BAD_FRAME: not Modbus TCP. */
export function wg_frame_length(size: i32): i32 {
  if (size < 7) return 0;
  const p = input();
  if (load<u8>(p, 2) != 0 || load<u8>(p, 3) != 0) return BAD_FRAME;
  const length = (<i32>load<u8>(p, 4) << 8) | <i32>load<u8>(p, 5);
  if (length < 2 || length > 254) return BAD_FRAME;
  return size >= 6 + length ? 6 + length : 0;
}

export function wg_process(size: i32): i32 {
  frames.reset(input(), size);
  samples.begin(64);
  while (frames.next()) {
    const req = frames.requestPtr;
    const resp = frames.responsePtr;
    let q = GOOD;
    let v: f64 = NaN;
    if (frames.status != 0) {
      q = NO_COMM; // timeout or lost link: in the data, not only in a log
    } else if (frames.responseLength != 11 || load<u8>(resp, 7) != 3 || load<u16>(resp) != load<u16>(req)) {
      q = BAD; // an exception response, or not the answer to this request
    } else {
      v = <f64>(<i16>((<i32>load<u8>(resp, 9) << 8) | <i32>load<u8>(resp, 10)));
    }
    samples.push(frames.ts, v, <u32>frames.request, q, TYPE_NUMBER, AGG_RAW);
  }
  return samples.finish();
}
`;

export const decoderManifest = `name: {{name}}
kind: decoder
abi: 1
version: 0.1.0
imports: [log]
description: Minimal Modbus TCP decoder, one FC3 request per point, int16 values. (Describe your plugin here.)
with:
  type: object
  additionalProperties: false
  properties: {}
`;

export const decoderTest = `// Tests of {{name}} on known Modbus TCP bytes (from the Modbus TCP spec's frame layout).
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadPlugin, encodeFrameBatch, decodeSamples, FrameStatus, Quality } from '{{harness}}';

const wasm = fileURLToPath(new URL('./build/{{name}}.wasm', import.meta.url));
const setup = { devices: [{ name: 'plc', unit_id: 17 }], points: [{ name: 'a', address: 107 }, { name: 'b', address: 5 }] };

test('{{name}} builds a read request for each point', () => {
  const { instance } = loadPlugin(wasm, setup);
  assert.deepEqual([...instance.requests()], [0, 0]);
  // transaction 0x0102, protocol 0, length 6, unit 17, FC3, address 107 = 0x006B, quantity 1
  assert.deepEqual([...instance.request(0, 0x0102)], [0x01, 0x02, 0, 0, 0, 6, 17, 3, 0x00, 0x6b, 0, 1]);
  assert.equal(instance.frameLength(new Uint8Array([0, 1, 0, 0, 0, 5, 17, 3])), 0, 'needs more');
  assert.equal(instance.frameLength(new Uint8Array([0, 1, 0, 0, 0, 5, 17, 3, 2, 0, 1])), 11);
});

test('{{name}} decodes int16 answers and marks failures', () => {
  const { instance } = loadPlugin(wasm, setup);
  const ok = { request: instance.request(0, 7), response: new Uint8Array([0, 7, 0, 0, 0, 5, 17, 3, 2, 0xff, 0x85]) };
  const lost = { request: instance.request(1, 8) };
  const batch = encodeFrameBatch([
    { ctx: { device: 0, request: 0, status: FrameStatus.ok, seq: 7, ts: 5000 }, ...ok },
    { ctx: { device: 0, request: 1, status: FrameStatus.timeout, seq: 8, ts: 5001 }, ...lost },
  ]);
  const out = decodeSamples(instance.process(batch));
  assert.equal(out[0].value, -123); // 0xFF85 as int16
  assert.equal(out[0].quality, Quality.good);
  assert.equal(out[1].point, 1);
  assert.equal(out[1].quality, Quality.noComm);
  assert.ok(Number.isNaN(out[1].value));
});
`;
