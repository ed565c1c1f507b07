// The spine end to end with real peers: a Modbus TCP PLC (modbus-serial's server, then Debian's
// pymodbus as an independent implementation) → gateway (poller, ring, worker with modbus → scale →
// json) → MQTT broker (mosquitto when installed, else aedes) → an independent subscriber. Values are
// checked against hand-computed register encodings.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { RegisterContents } from '../../src/host/demo/register-image.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { startPymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

// Register words computed by hand from each type's definition and the word/byte order:
const IMAGE: RegisterContents = {
  holding: {
    0: [0xff85], //           int16 -123 (two's complement of 123 = 0x007B)
    1: [0x41ac, 0x0000], //   float32 21.5 ABCD: sign 0, exponent 131 (2^4), mantissa 1.34375
    3: [0xffff, 0xfeff], //   int32 -2 = 0xFFFFFFFE, BADC = bytes swapped inside each word
    5: [0x4142, 0x4344], //   string "ABCD" (2 registers, ABCD = high byte first)
  },
  input: {
    0: [0x5678, 0x1234], //   uint32 0x12345678 = 305419896, CDAB = low word first
    2: [0xffff], //           uint16 65535
  },
  coils: { 0: [true] },
};

const EXPECTED: Record<string, { value: number | string | boolean; unit?: string }> = {
  'boiler.temp': { value: -123 * 0.1, unit: 'degC' },
  'boiler.press': { value: 21.5 * 100, unit: 'kPa' },
  'valve.offset': { value: -2 },
  'batch.code': { value: 'ABCD' },
  'feed.total': { value: 305419896 },
  'pump.speed': { value: 65535, unit: 'rpm' },
  'pump.running': { value: true },
};

function pipelineYaml(plcPort: number): string {
  return `pipeline:
  name: boiler-room
  batch: { max_records: 64, deadline: 500ms }
source:
  modbus_tcp:
    devices:
      - name: plc1
        host: 127.0.0.1
        port: ${plcPort}
        interval: 100ms
        timeout: 300ms
        retries: 0
        backoff: { min: 50ms, max: 200ms }
        points:
          - { name: boiler.temp, function: 3, address: 0, type: int16, unit: degC, scale: 0.1 }
          - { name: boiler.press, function: 3, address: 1, type: float32, order: ABCD, unit: bar }
          - { name: valve.offset, function: 3, address: 3, type: int32, order: BADC }
          - { name: batch.code, function: 3, address: 5, type: string, length: 2 }
          - { name: feed.total, function: 4, address: 0, type: uint32, order: CDAB }
          - { name: pump.speed, function: 4, address: 2, type: uint16, unit: rpm }
          - { name: pump.running, function: 1, address: 0, type: bool }
steps:
  - plugin: modbus
  - plugin: scale
    with:
      points:
        boiler.press: { factor: 100, unit: kPa }
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "plant/{gateway}/{pipeline}/{device}/{point}"
  qos: 1
`;
}

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const silent = pino({ level: 'silent' });

async function startGateway(plcPort: number) {
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(plcPort));
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: silent, statusIntervalMs: 0 });
  return { gateway, fixture };
}

function latestByPoint(messages: readonly ReceivedMessage[]): Map<string, Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const m of messages) {
    const body = JSON.parse(m.payload.toString()) as Record<string, unknown>;
    latest.set(String(body.point), { ...body, topic: m.topic });
  }
  return latest;
}

async function assertValuesArrive(plcPort: number, label: string): Promise<void> {
  const subscriber = await subscribe(broker.url, `plant/gw-test/boiler-room/#`);
  const { gateway, fixture } = await startGateway(plcPort);
  try {
    const since = Date.now();
    await subscriber.waitUntil((m) => latestByPoint(m).size === Object.keys(EXPECTED).length, 'a message for every point', 10_000);
    const latest = latestByPoint(subscriber.messages);
    for (const [point, expected] of Object.entries(EXPECTED)) {
      const got = latest.get(point)!;
      assert.equal(got.topic, `plant/gw-test/boiler-room/plc1/${point}`, `${label}: topic of ${point}`);
      assert.deepEqual(got.value, expected.value, `${label}: value of ${point}`);
      assert.equal(got.quality, 'good', `${label}: quality of ${point}`);
      if (expected.unit) assert.equal(got.unit, expected.unit, `${label}: unit of ${point}`);
      assert.ok(typeof got.ts === 'number' && got.ts >= since - 1000 && got.ts <= Date.now(), `${label}: ts of ${point} is the poll time`);
    }
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
  }
}

test(`Modbus TCP (modbus-serial server) → worker chain → MQTT: every value right, end to end`, async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: IMAGE });
  try {
    await assertValuesArrive(plc.port, 'modbus-serial');
  } finally {
    await plc.close();
  }
});

test('Modbus TCP (pymodbus server, independent implementation) → MQTT: the same values', needs('pymodbus', !!findPymodbusPython()), async () => {
  const plc = await startPymodbusServer(IMAGE);
  try {
    await assertValuesArrive(plc.port, 'pymodbus');
  } finally {
    await plc.stop();
  }
});

test('a device that stops answering marks its points no-comm, and recovers to good values', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: IMAGE });
  const subscriber = await subscribe(broker.url, 'plant/gw-test/boiler-room/plc1/boiler.temp');
  const { gateway, fixture } = await startGateway(plc.port);
  const quality = () => subscriber.messages.map((m) => JSON.parse(m.payload.toString()) as { quality: string; value: unknown });
  try {
    await subscriber.waitUntil(() => quality().some((q) => q.quality === 'good'), 'a good reading', 10_000);
    plc.setResponseMode('ignore');
    await subscriber.waitUntil(() => quality().some((q) => q.quality === 'no-comm'), 'a no-comm reading', 10_000);
    const lost = quality().find((q) => q.quality === 'no-comm')!;
    assert.equal(lost.value, null, 'no value is invented for a reading that was not taken');
    const device = gateway.status().pipelines[0]!.devices[0]!;
    assert.ok(device.timeouts >= 1, 'timeouts are counted');
    const seen = subscriber.messages.length;
    plc.setResponseMode('answer');
    await subscriber.waitUntil((m) => m.slice(seen).some((x) => JSON.parse(x.payload.toString()).quality === 'good'), 'good again', 10_000);
    assert.equal(gateway.status().pipelines[0]!.state, 'running', 'the pipeline never stopped');
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
    await plc.close();
  }
});

test('a device whose link drops is reconnected with back-off; the daemon keeps running', async () => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: IMAGE });
  const subscriber = await subscribe(broker.url, 'plant/gw-test/boiler-room/plc1/pump.speed');
  const { gateway, fixture } = await startGateway(plc.port);
  try {
    await subscriber.waitFor(1, 10_000);
    plc.setResponseMode('disconnect');
    await subscriber.waitUntil((m) => m.some((x) => JSON.parse(x.payload.toString()).quality === 'no-comm'), 'no-comm after the drop', 10_000);
    plc.setResponseMode('answer');
    const seen = subscriber.messages.length;
    await subscriber.waitUntil((m) => m.slice(seen).some((x) => JSON.parse(x.payload.toString()).value === 65535), 'good values after reconnect', 10_000);
    const device = gateway.status().pipelines[0]!.devices[0]!;
    assert.ok(device.linkErrors >= 1, 'the lost link is counted');
    assert.equal(device.connected, true);
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
    await plc.close();
  }
});
