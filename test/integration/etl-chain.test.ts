// Acceptance of the ETL plugin set: the shipped example (config/etl-example.yaml with
// pipelines/etl-example.yaml: modbus → si → outlier → resample → deadband → json) runs in the real
// gateway against a real Modbus TCP PLC (the embedded simulator serving hand-computed words, then
// Debian's pymodbus serving its own encoder's words) and a real MQTT broker (mosquitto, else aedes),
// read by an independent subscriber. Every type and byte order the modbus plugin supports must arrive
// right to the last bit of the double; unit conversions are checked against the SI definitions.
// The example is used as shipped, with only its placeholders (PLC host and port, broker URL) replaced.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import type { ResolvedGateway } from '../../src/host/config/resolved.js';
import { Gateway, type GatewayStatus } from '../../src/host/gateway.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type ReceivedMessage, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { pymodbusEncodeMany, startPymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { writeGatewayFixture } from '../support/gateway-fixture.js';
import { REPO_ROOT } from '../support/plugins.js';
import { waitFor } from '../support/wait.js';
import { EXPECTED, TANK_GLITCH, TANK_LEVEL_ADDRESS, encodedBlocks, handImage, pymodbusImage, type Expectation } from './etl-chain-points.js';

const BUCKET_MS = 1000; // resample's bucket in pipelines/etl-example.yaml
const AGGREGATES = ['mean', 'min', 'max', 'first', 'last', 'count'] as const;
const WAIT_MS = 15_000;

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const silent = pino({ level: 'silent' });

interface Published {
  topic: string;
  body: Record<string, unknown>;
}

function parse(messages: readonly ReceivedMessage[]): Published[] {
  return messages.map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
}

function of(messages: readonly Published[], point: string): Published[] {
  return messages.filter((m) => m.body.point === point);
}

/** Samples that went into `point`'s buckets: the sum of their counts. */
function bucketed(messages: readonly Published[], point: string): number {
  return of(messages, point).reduce((sum, m) => sum + (typeof m.body.count === 'number' ? m.body.count : 0), 0);
}

function replaceExactly(text: string, placeholder: string, value: string, times: number): string {
  const parts = text.split(placeholder);
  assert.equal(parts.length - 1, times, `placeholder "${placeholder}" appears ${times} time(s) in the shipped example`);
  return parts.join(value);
}

/** The shipped gateway and pipeline files in a temp dir, pointed at this test's PLC and broker. */
async function shippedExample(plcPort: number) {
  const gateway = await readFile(join(REPO_ROOT, 'config/etl-example.yaml'), 'utf8');
  const pipeline = await readFile(join(REPO_ROOT, 'pipelines/etl-example.yaml'), 'utf8');
  return writeGatewayFixture(
    replaceExactly(replaceExactly(gateway, 'mqtt://127.0.0.1:1883', broker.url, 1), '../pipelines/etl-example.yaml', './pipeline.yaml', 1),
    replaceExactly(replaceExactly(replaceExactly(pipeline, 'host: 192.0.2.10', 'host: 127.0.0.1', 1), 'host: 192.0.2.11', 'host: 127.0.0.1', 1), 'port: 502\n', `port: ${plcPort}\n`, 2),
  );
}

function pluginStats(status: GatewayStatus, plugin: string): Record<string, number> {
  return status.pipelines[0]!.steps.find((s) => s.plugin === plugin)?.stats ?? {};
}

interface Run {
  messages: Published[];
  status: GatewayStatus;
  config: ResolvedGateway;
}

/**
 * Runs the shipped example against the PLC on `plcPort` while `during` lasts, stops the gateway, and
 * waits for the buckets resample flushes at shutdown. Every meter point is read by the meter's one
 * request, so once everything arrived each one's counts (plus the readings outlier dropped) add up to
 * the polls the meter answered: that is the wait condition, and the test checks it again.
 */
async function runShippedExample(plcPort: number, during: (gateway: Gateway, subscriber: TestSubscriber) => Promise<void>): Promise<Run> {
  const fixture = await shippedExample(plcPort);
  const subscriber = await subscribe(broker.url, 'plant/etl-gw-01/etl/#');
  try {
    const loaded = await loadGatewayConfig(fixture.gatewayFile);
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const gateway = await Gateway.start(loaded.config, { logger: silent, statusIntervalMs: 0 });
    try {
      await during(gateway, subscriber);
    } finally {
      await gateway.stop();
    }
    const status = gateway.status();
    const answered = status.pipelines[0]!.devices.find((d) => d.device === 'meter')!.responses;
    const rejected = pluginStats(status, 'outlier').rejected ?? 0;
    const pipeline = loaded.config.pipelines[0]!;
    const meter = pipeline.source.devices.findIndex((d) => d.name === 'meter');
    const meterPoints = pipeline.points.filter((p) => p.device === meter).map((p) => p.name);
    const accountedFor = (m: readonly ReceivedMessage[]) => meterPoints.every((p) => bucketed(parse(m), p) + (p === 'tank.level' ? rejected : 0) === answered);
    // On timeout the assertions below say which point is short.
    await subscriber.waitUntil(accountedFor, 'the buckets flushed at shutdown', WAIT_MS).catch(() => undefined);
    const messages = parse(subscriber.messages);
    for (const point of meterPoints) {
      const dropped = point === 'tank.level' ? rejected : 0;
      assert.equal(bucketed(messages, point) + dropped, answered, `${point}: every reading the meter answered is counted in one bucket (or was dropped by outlier: ${dropped})`);
    }
    return { messages, status, config: loaded.config };
  } finally {
    await subscriber.close();
    await fixture.dispose();
  }
}

const view = new DataView(new ArrayBuffer(8));
/** A double's position on the line of all doubles, so that neighbours differ by 1 (±0 both 0). */
function position(x: number): bigint {
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
}

/** How many steps from one double to the next separate `a` and `b`. */
function ulpsBetween(a: number, b: number): number {
  const steps = position(a) - position(b);
  return Number(steps < 0n ? -steps : steps);
}

function assertValue(got: unknown, expected: Expectation, where: string): void {
  assert.equal(typeof got, typeof expected.value, `${where}: type`);
  assert.equal(got, expected.value, `${where}: exactly ${expected.value}`);
}

/** True when n × v and every partial sum k × v is exact in binary64: v's odd significand times n fits 53 bits. */
function sumIsExact(v: number, n: number): boolean {
  let m = Math.abs(v);
  if (m === 0) return true;
  while (!Number.isInteger(m)) m *= 2;
  while (m % 2 === 0) m /= 2;
  return BigInt(m) * BigInt(n) < 2n ** 53n;
}

/**
 * The encoder's keys, sorted. `seq` is left out: it is the outbox's mark, not the json plugin's, and
 * whether it is in the payload depends on the broker (MQTT 5 carries it as a user property).
 */
function keysOf(body: Record<string, unknown>): string[] {
  return Object.keys(body).filter((k) => k !== 'seq').sort();
}

/** One bucket of a steady numeric point: every aggregate is the point's value. */
function assertBucket(body: Record<string, unknown>, expected: Expectation, where: string): void {
  assert.deepEqual(keysOf(body), [...AGGREGATES, 'point', 'quality', 'ts', 'unit'].sort(), `${where}: a bucket message`);
  assert.ok(typeof body.ts === 'number' && body.ts % BUCKET_MS === 0, `${where}: stamped with its bucket's start, got ${body.ts}`);
  const count = body.count as number;
  assert.ok(Number.isInteger(count) && count >= 1, `${where}: count ${count} is the number of readings in the bucket`);
  for (const aggregate of ['min', 'max', 'first', 'last'] as const) assertValue(body[aggregate], expected, `${where} ${aggregate}`);
  // A steady register gives the same double v every poll (min === max shows it). When count × v is
  // exact, the compensated sum is too and the mean is v exactly; otherwise the resample manifest
  // promises a mean "within about an ulp of the exact mean", which is v.
  const v = body.min as number;
  assert.equal(body.max, v, `${where}: one value all bucket long`);
  if (sumIsExact(v, count)) assert.equal(body.mean, v, `${where} mean: exactly the value (the sum of ${count} is exact)`);
  else assert.ok(ulpsBetween(body.mean as number, v) <= 1, `${where} mean: ${body.mean} within 1 ulp of ${v} over ${count} readings`);
}

/** Every message of every point is right; numeric points arrive as buckets, states and text once. */
function assertPublished(run: Run, label: string): void {
  const pipeline = run.config.pipelines[0]!;
  assert.deepEqual(pipeline.points.map((p) => p.name).sort(), [...EXPECTED.keys()].sort(), 'the test knows every point of the example, and no other');
  for (const point of pipeline.points) {
    const expected = EXPECTED.get(point.name)!;
    const mine = of(run.messages, point.name);
    const where = `${label}: ${point.name}`;
    assert.ok(mine.length >= 1, `${where}: published`);
    for (const { topic, body } of mine) {
      assert.equal(topic, `plant/etl-gw-01/etl/${pipeline.source.devices[point.device]!.name}/${point.name}`, `${where}: topic`);
      assert.equal(body.quality, 'good', `${where}: quality`);
      assert.equal(body.unit, expected.unit, `${where}: unit label after si`);
      if (typeof expected.value === 'number') {
        assertBucket(body, expected, where);
      } else {
        assert.deepEqual(keysOf(body), ['point', 'quality', 'ts', 'unit', 'value'], `${where}: a raw message`);
        assert.equal(body.value, expected.value, `${where}: value`);
      }
    }
    // Deadband: a state or text that does not change is sent once, however many polls read it.
    if (typeof expected.value !== 'number') assert.equal(mine.length, 1, `${where}: sent once while steady`);
  }
  assert.equal(pluginStats(run.status, 'outlier').rejected, 0, `${label}: a steady signal is never an outlier`);
  assert.deepEqual(pluginStats(run.status, 'resample'), { late: 0, early: 0, unaggregated: 0, clock_steps: 0 }, `${label}: every reading entered its bucket`);
  assert.ok((pluginStats(run.status, 'deadband').suppressed ?? 0) > 0, `${label}: deadband suppressed the repeats`);
}

/**
 * Every numeric point has two buckets from `from` on (so a whole bucket of polls came after it), and
 * with `states` every other point has its message too.
 */
function arrived(messages: readonly ReceivedMessage[], from: number, states: boolean): boolean {
  const published = parse(messages.slice(from));
  return [...EXPECTED].every(([name, e]) => of(published, name).length >= (typeof e.value === 'number' ? 2 : states ? 1 : 0));
}

async function assertShippedExample(plcPort: number, label: string): Promise<void> {
  const run = await runShippedExample(plcPort, (_gateway, subscriber) => subscriber.waitUntil((m) => arrived(m, 0, true), 'two buckets of every point', WAIT_MS));
  assertPublished(run, label);
}

test('every type and byte order, through modbus → si → outlier → resample → deadband → json, from the PLC simulator (hand-computed words)', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: handImage() });
  try {
    await assertShippedExample(plc.port, 'simulator');
  } finally {
    await plc.close();
  }
});

test('the same values from pymodbus, serving the words its own BinaryPayloadBuilder encodes', needs('python3-pymodbus', !!findPymodbusPython()), async () => {
  const blocks = encodedBlocks();
  const words = await pymodbusEncodeMany(blocks.map((b) => b.encode));
  // The two sources agree before either is trusted: a disagreement is named here, not as a wrong value later.
  blocks.forEach((b, i) => assert.deepEqual(words[i], b.words, `pymodbus encodes ${b.encode.type} ${b.encode.value} ${b.encode.order} as the hand words`));
  const plc = await startPymodbusServer(pymodbusImage(words));
  try {
    await assertShippedExample(plc.port, 'pymodbus');
  } finally {
    await plc.stop();
  }
});

// Regression (found by this suite): stopping the gateway while a request waited for its answer
// published no-comm for every point of the requests that poll cycle had not sent yet. The poller's
// request is cancelled by the close (WG_ERR_HAL_CLOSED, recorded as nothing), but the rest of the
// cycle was then recorded as link-lost: a restart looked like a lost device. Nothing was read, so
// nothing may be published for them.
test('stopping the gateway while a device is answering publishes no no-comm reading', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: handImage() });
  try {
    const run = await runShippedExample(plc.port, async (_gateway, subscriber) => {
      await subscriber.waitUntil((m) => of(parse(m), 'pump.run').length === 1, 'a first poll', WAIT_MS);
      // From now on requests go unanswered: once each device sent one (two requests), both wait for
      // an answer, the PLC (four requests per poll) usually in the first request of its cycle.
      plc.setResponseMode('ignore');
      const asked = plc.requests;
      await waitFor(() => plc.requests >= asked + 2, WAIT_MS, () => `${plc.requests - asked} requests`);
    });
    const notRead = run.messages.filter((m) => m.body.quality !== 'good').map((m) => `${String(m.body.point)}: ${String(m.body.quality)}`);
    assert.deepEqual(notRead, [], 'only readings that were taken are published');
  } finally {
    await plc.close();
  }
});

test('in the chain, deadband sends a state again when it changes, and outlier keeps a glitch out of every bucket', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: handImage() });
  try {
    const run = await runShippedExample(plc.port, async (gateway, subscriber) => {
      // outlier judges once its window holds min_samples (10) accepted readings: wait for that many.
      const ready = (m: readonly ReceivedMessage[]) => bucketed(parse(m), 'tank.level') >= 10 && of(parse(m), 'pump.run').length === 1;
      await subscriber.waitUntil(ready, 'a warmed-up outlier window', WAIT_MS);
      plc.setCoil(0, false);
      plc.setHolding(TANK_LEVEL_ADDRESS, [65535]);
      await subscriber.waitUntil((m) => of(parse(m), 'pump.run').length === 2, 'the pump command change', WAIT_MS);
      await waitFor(() => (pluginStats(gateway.status(), 'outlier').rejected ?? 0) >= 1, WAIT_MS, () => JSON.stringify(pluginStats(gateway.status(), 'outlier')));
      plc.setHolding(TANK_LEVEL_ADDRESS, [250]);
      // Two more buckets of every point: a whole bucket of polls read the new pump command.
      const mark = subscriber.messages.length;
      await subscriber.waitUntil((m) => arrived(m, mark, false), 'two buckets after the change', WAIT_MS);
    });
    assert.deepEqual(of(run.messages, 'pump.run').map((m) => m.body.value), [true, false], 'pump.run: sent at start and once on its change');
    assert.equal(of(run.messages, 'fan.run').length, 1, 'fan.run: steady, sent once');
    // Bucket counts plus rejections add up to the meter's answers (checked by runShippedExample): what
    // outlier dropped never reached resample. With reset_after 5 a glitch that lasts is taken as a new
    // level, so a bucket may hold the glitch value, but only ever whole: no blend of the two in min..last.
    assert.ok((pluginStats(run.status, 'outlier').rejected ?? 0) >= 1, 'the glitch was rejected');
    for (const { body } of of(run.messages, 'tank.level')) {
      for (const aggregate of ['min', 'max', 'first', 'last'] as const) {
        const level = body[aggregate] === EXPECTED.get('tank.level')!.value ? EXPECTED.get('tank.level')! : TANK_GLITCH;
        assertValue(body[aggregate], level, `tank.level ${aggregate}`);
      }
    }
  } finally {
    await plc.close();
  }
});
