// The pipeline worker end to end through real threads and rings: frames in order through the chain,
// a trap drops only its batch, a hung plugin gets its worker killed and restarted with the rest of
// the ring delivered exactly once, and a plugin that hangs while configuring is reported.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v8Engine, type CompiledPlugin } from '../../src/host/engine/engine.js';
import { frameRecordPayloadLength, writeFramePayload } from '../../src/host/engine/frame-record.js';
import { buildPlugin } from '../../src/host/plugin-build/build.js';
import { PipelineRunner, type PipelineOptions } from '../../src/host/pipeline/pipeline-runner.js';
import { SpareWorkers } from '../../src/host/pipeline/spare-workers.js';
import type { RingWriter } from '../../src/host/ring/writer.js';
import { REPO_ROOT, watBytes, watFixturePath } from '../support/plugins.js';
import { waitFor } from '../support/wait.js';
import { isWgError } from '../../src/host/errors.js';
import { createRequire } from 'node:module';

const crc16 = createRequire(import.meta.url)('modbus-serial/utils/crc16.js') as (b: Buffer) => number;

let decoder: CompiledPlugin;
let encoder: CompiledPlugin;

before(async () => {
  for (const name of ['probe-decoder', 'probe-encoder']) await buildPlugin(join(REPO_ROOT, 'test/fixtures/plugins', name));
  const load = (name: string) => {
    const file = join(REPO_ROOT, 'test/fixtures/plugins', name, 'build', `${name}.wasm`);
    return v8Engine.compile(readFileSync(file), name, file);
  };
  decoder = load('probe-decoder');
  encoder = load('probe-encoder');
});

const OK_COMMAND = 0x01;
const TRAP_COMMAND = 0xdd;
const HANG_COMMAND = 0xee;

function writeFrame(ring: RingWriter, id: number, command: number): void {
  const request = new Uint8Array([command]);
  const response = new Uint8Array([id % 256]);
  const at = ring.reserve(frameRecordPayloadLength(1, 1));
  assert.ok(at >= 0, 'ingress ring has room');
  writeFramePayload(ring.bytes, ring.view, at, { device: 0, request: id, status: 0, seq: id, ts: 1000 + id }, request, response);
}

function runner(overrides: Partial<PipelineOptions> = {}) {
  const messages: string[] = [];
  const logs: Array<{ level: number; message: string; context: Record<string, unknown> }> = [];
  const pipeline = new PipelineRunner({
    name: 'probe',
    steps: [{ plugin: decoder, kind: 'decoder', with: {} }, { plugin: encoder, kind: 'encoder', with: {} }],
    context: { pipeline: 'probe', devices: [], points: [] },
    ingressBytes: 1 << 16,
    egressBytes: 1 << 16,
    maxBatchRecords: 1,
    batchDeadlineMs: 300,
    onMessage: (_point, payload) => messages.push(Buffer.from(payload).toString()),
    logger: { log: (level, message, context) => logs.push({ level, message, context }) },
    ...overrides,
  });
  return { pipeline, messages, logs };
}

const expected = (ids: number[]) => ids.map((id) => `${id}=${id % 256}`);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('frames pass through decoder and encoder in the worker, in order', async (t) => {
  const { pipeline, messages } = runner({ maxBatchRecords: 64 });
  t.after(() => pipeline.stop());
  await pipeline.start();
  for (const id of range(0, 500)) writeFrame(pipeline.ingress, id, OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 500, 5000, () => `${messages.length} messages`);
  assert.deepEqual(messages, expected(range(0, 500)));
  const status = pipeline.status();
  assert.equal(status.state, 'running');
  assert.equal(status.batchesDropped, 0);
});

test('a trap drops only its batch; the worker goes on with a fresh instance', async (t) => {
  const { pipeline, messages, logs } = runner();
  t.after(() => pipeline.stop());
  await pipeline.start();
  for (const id of range(0, 20)) writeFrame(pipeline.ingress, id, id === 7 ? TRAP_COMMAND : OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 19, 5000, () => `${messages.length} messages`);
  assert.deepEqual(messages, expected(range(0, 20).filter((id) => id !== 7)));
  const trapLog = logs.find((l) => l.context.code === 'WG_ERR_PLUGIN_TRAP');
  assert.ok(trapLog, 'the trap is logged');
  assert.equal(trapLog.context.plugin, 'probe-decoder');
  assert.equal(trapLog.context.pipeline, 'probe');
  await waitFor(() => pipeline.status().steps[0]?.traps === 1, 3000, () => JSON.stringify(pipeline.status().steps));
  assert.equal(pipeline.status().steps[0]!.reinstantiations, 1);
  assert.equal(pipeline.status().watchdogKills, 0);
});

test('a plugin that hangs gets its worker killed and restarted; the rest arrives exactly once', async (t) => {
  const { pipeline, messages, logs } = runner();
  t.after(() => pipeline.stop());
  await pipeline.start();
  for (const id of range(0, 60)) writeFrame(pipeline.ingress, id, id === 30 ? HANG_COMMAND : OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 59, 10_000, () => `${messages.length} messages, state ${pipeline.status().state}`);
  assert.deepEqual(messages, expected(range(0, 60).filter((id) => id !== 30)), 'every other frame, in order, no duplicates');
  const status = pipeline.status();
  assert.equal(status.watchdogKills, 1);
  assert.equal(status.workerRestarts, 1);
  assert.equal(status.batchesDropped, 1);
  assert.equal(status.state, 'running');
  const kill = logs.find((l) => l.context.code === 'WG_ERR_PLUGIN_TIMEOUT');
  assert.ok(kill, 'the kill is logged');
  assert.equal(kill.context.plugin, 'probe-decoder');
});

test('a plugin that hangs while instantiating is killed at the configure deadline and reported', async (t) => {
  const hanging = v8Engine.compile(watBytes('loop-forever-start'), 'loop-forever-start', watFixturePath('loop-forever-start'));
  const { pipeline, logs } = runner({ steps: [{ plugin: hanging, kind: 'decoder', with: {} }, { plugin: encoder, kind: 'encoder', with: {} }], configureDeadlineMs: 200 });
  t.after(() => pipeline.stop());
  void pipeline.start().catch(() => undefined);
  await waitFor(() => pipeline.status().state === 'restarting', 5000, () => JSON.stringify(pipeline.status()));
  const status = pipeline.status();
  assert.ok(status.watchdogKills >= 1);
  assert.match(status.reason ?? '', /loop-forever-start timed out in configuring/);
  assert.ok(logs.some((l) => l.context.code === 'WG_ERR_PLUGIN_TIMEOUT' && l.context.plugin === 'loop-forever-start'));
});

test('while the uplink backlog is full, messages wait in the rings, and none is lost when it clears', async (t) => {
  // The flow value stands in for an uplink (the runner's contract with it is just these three members);
  // the MQTT sink's own backlog is tested against real brokers in mqtt-sink.test.ts.
  let backlog = 0;
  const waiting: Array<() => void> = [];
  const flow = {
    limit: 5,
    backlog: () => backlog,
    whenBacklogBelow: (n: number) => (backlog < n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
  };
  const { pipeline, messages } = runner({ flow, maxBatchRecords: 8 });
  const counted = pipeline.status.bind(pipeline);
  t.after(() => pipeline.stop());
  await pipeline.start();
  const original = messages.push.bind(messages);
  messages.push = (...items: string[]) => { backlog += items.length; return original(...items); };
  for (const id of range(0, 100)) writeFrame(pipeline.ingress, id, OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => counted().batchesDone * 8 >= 100, 5000, () => JSON.stringify(counted().egress));
  await new Promise((r) => setTimeout(r, 300)); // the drain loop's next turns must not pass the limit
  assert.equal(messages.length, 5, 'the uplink got only what its backlog allows');
  assert.ok(counted().egress.usedBytes > 0, 'the rest waits in the egress ring');
  backlog = 0; // the uplink caught up, and stays fast from here on
  flow.limit = Number.MAX_SAFE_INTEGER;
  for (const resolve of waiting.splice(0)) resolve();
  await waitFor(() => messages.length >= 100, 5000, () => `${messages.length} messages`);
  assert.deepEqual([...messages], expected(range(0, 100)), 'all of them, in order, once');
});

// Regression: the watchdog measured with the wall clock. A Pi without a real-time clock steps it at NTP
// sync: +1 h during a batch gave a false kill ("ran 3600053 ms") and a lost reading; -1 h blinded the
// watchdog. Only this thread's Date.now is stepped here (the worker has its own), which is the side
// that compared the two readings.
test('a wall-clock step forward does not make the watchdog kill a healthy worker', async (t) => {
  const realNow = Date.now;
  t.after(() => { Date.now = realNow; });
  const busy = v8Engine.compile(watBytes('busy-decoder'), 'busy-decoder', watFixturePath('busy-decoder'));
  // The deadline is far above what the busy batches take even on a loaded machine; only a clock step
  // could make them look late.
  const { pipeline } = runner({ steps: [{ plugin: busy, kind: 'decoder', with: {} }, { plugin: encoder, kind: 'encoder', with: {} }], batchDeadlineMs: 10_000 });
  t.after(() => pipeline.stop());
  await pipeline.start();
  Date.now = () => realNow() + 3_600_000;
  for (const id of range(0, 10)) writeFrame(pipeline.ingress, id, OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => pipeline.status().batchesDone >= 10, 30_000, () => JSON.stringify(pipeline.status()));
  assert.equal(pipeline.status().watchdogKills, 0);
  assert.equal(pipeline.status().batchesDropped, 0);
});

test('after a wall-clock step back the watchdog still kills a plugin that hangs', async (t) => {
  const realNow = Date.now;
  t.after(() => { Date.now = realNow; });
  const { pipeline, messages } = runner();
  t.after(() => pipeline.stop());
  await pipeline.start();
  Date.now = () => realNow() - 3_600_000;
  for (const id of range(0, 10)) writeFrame(pipeline.ingress, id, id === 3 ? HANG_COMMAND : OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 9, 10_000, () => `${messages.length} messages, ${JSON.stringify(pipeline.status().state)}`);
  assert.equal(pipeline.status().watchdogKills, 1);
  assert.deepEqual(messages, expected(range(0, 10).filter((id) => id !== 3)));
});

test('a decoder whose framing rule holds frames by rule: the pollers need no call into the worker', async (t) => {
  const modbus = v8Engine.compile(readFileSync(join(REPO_ROOT, 'plugins/modbus/build/modbus.wasm')), 'modbus', 'modbus.wasm');
  const context = { pipeline: 'probe', devices: [{ index: 0, name: 'plc', unit_id: 7 }], points: [{ id: 0, name: 'p', device: 0, function: 3, address: 2, type: 'uint16', order: 'ABCD', unit: '', scale: 1, offset: 0 }] };
  const { pipeline } = runner({ context, steps: [{ plugin: modbus, kind: 'decoder', with: { max_registers: 125, max_bits: 2000, max_gap: 0 } }, { plugin: encoder, kind: 'encoder', with: {} }] });
  t.after(() => pipeline.stop());
  await pipeline.start();
  const framing = pipeline.framing;
  assert.ok(framing, 'the modbus decoder declares a rule that its frames agree with');
  // Read holding registers 2..2 of unit 7, transaction id 0 (Modbus TCP: MBAP, function 3, address, count).
  assert.deepEqual([...framing.templates[0]!], [0, 0, 0, 0, 0, 6, 7, 3, 0, 2, 0, 1]);
});

test('writes run in the worker over the poll channel: an RTU frame, a refusal with the point named, the echo checked', async (t) => {
  const modbus = v8Engine.compile(readFileSync(join(REPO_ROOT, 'plugins/modbus/build/modbus.wasm')), 'modbus', 'modbus.wasm');
  const point = { device: 1, function: 3, type: 'uint16', order: 'ABCD', unit: '', scale: 1, offset: 0 };
  const context = {
    pipeline: 'probe',
    devices: [{ index: 0, name: 'tcp1', unit_id: 1, framing: 'tcp' }, { index: 1, name: 'rtu7', unit_id: 7, framing: 'rtu' }],
    points: [
      { id: 0, name: 'setpoint', ...point, address: 1, access: 'read_write' },
      { id: 1, name: 'status', ...point, address: 2 },
      { id: 2, name: 'level', ...point, device: 0, address: 3 },
    ],
  };
  const { pipeline } = runner({ context, steps: [{ plugin: modbus, kind: 'decoder', with: { max_registers: 125, max_bits: 2000, max_gap: 0 } }, { plugin: encoder, kind: 'encoder', with: {} }] });
  t.after(() => pipeline.stop());
  await pipeline.start();
  // Each device is framed by the rule of its framing: device 0 Modbus TCP, device 1 RTU.
  const framing = pipeline.framing!;
  assert.equal(framing.deviceRules[0]!.max, 260);
  assert.equal(framing.deviceRules[1]!.max, 256);
  assert.equal(framing.deviceRules[1]!.seq, null);
  // Write single register 1 = 0x1234 on unit 7, then the CRC modbus-serial computes for those six bytes.
  const frame = await pipeline.writes.writeFrame(1, 0, 0x1234, 0);
  assert.deepEqual([...frame], [7, 6, 0, 1, 0x12, 0x34, ...crcBytes([7, 6, 0, 1, 0x12, 0x34])]);
  // Function 6 echoes the request: the request itself is the confirming answer.
  assert.deepEqual(await pipeline.writes.checkWrite(0, frame, frame), { ok: true });
  const exception = [7, 0x86, 2];
  const verdict = await pipeline.writes.checkWrite(0, frame, new Uint8Array([...exception, ...crcBytes(exception)]));
  assert.equal(verdict.ok, false);
  assert.ok(!verdict.ok && verdict.code === 'WG_ERR_DEVICE_EXCEPTION' && /illegal data address/.test(verdict.detail));
  await assert.rejects(pipeline.writes.writeFrame(1, 1, 1, 0), (e: unknown) =>
    isWgError(e, 'WG_ERR_WRITE_REFUSED') && e.context.point === 'status' && e.context.device === 'rtu7' && /access is read/.test(e.message));
});

// A decoder's rule is data the host trusts for every exchange, so it is checked against the decoder's
// own frames first: this one says little-endian but writes big-endian.
test('a decoder whose framing rule does not describe its frames is framed call by call instead, with a warning', async (t) => {
  const lying = v8Engine.compile(watBytes('polling-false-framing'), 'polling-false-framing', watFixturePath('polling-false-framing'));
  const { pipeline, logs } = runner({ steps: [{ plugin: lying, kind: 'decoder', with: {} }, { plugin: encoder, kind: 'encoder', with: {} }] });
  t.after(() => pipeline.stop());
  await pipeline.start();
  assert.equal(pipeline.framing, undefined);
  assert.ok(logs.some((l) => /wg_framing does not describe request 0/.test(l.message) && l.context.plugin === 'polling-false-framing'));
  const frame = await pipeline.protocol.request(0, 0x0102);
  assert.deepEqual([...frame.subarray(0, 2)], [0x01, 0x02], 'the plugin builds the frames itself');
  assert.equal(await pipeline.protocol.frameLength(new Uint8Array([0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 42])), 11);
});

/** CRC-16/MODBUS of `bytes` by modbus-serial, low byte first. */
function crcBytes(bytes: number[]): number[] {
  const crc = crc16(Buffer.from(bytes));
  return [crc & 0xff, crc >> 8];
}

test('a spare worker started before its pipeline is taken at the start; frames pass, and a restart after a hang starts a fresh one', async (t) => {
  const spares = new SpareWorkers(1);
  t.after(() => spares.dispose());
  const { pipeline, messages } = runner({ spares });
  t.after(() => pipeline.stop());
  await pipeline.start();
  assert.equal(spares.size, 0, 'the runner took the spare');
  for (const id of range(0, 40)) writeFrame(pipeline.ingress, id, id === 20 ? HANG_COMMAND : OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 39, 10_000, () => `${messages.length} messages, state ${pipeline.status().state}`);
  assert.deepEqual(messages, expected(range(0, 40).filter((id) => id !== 20)));
  assert.equal(pipeline.status().workerRestarts, 1);
  assert.equal(pipeline.status().state, 'running');
});

test('a spare that failed to boot is never handed out: the runner starts its own worker', async (t) => {
  const spares = new SpareWorkers(1, new URL('data:text/javascript,throw new Error("a spare that cannot boot")'));
  t.after(() => spares.dispose());
  await waitFor(() => spares.size === 0, 5000, () => `${spares.size} spares`);
  const { pipeline, messages } = runner({ spares });
  t.after(() => pipeline.stop());
  await pipeline.start();
  for (const id of range(0, 10)) writeFrame(pipeline.ingress, id, OK_COMMAND);
  pipeline.ingress.commit();
  await waitFor(() => messages.length >= 10, 5000, () => `${messages.length} messages`);
  assert.deepEqual(messages, expected(range(0, 10)));
});
