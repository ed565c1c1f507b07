// A device answering one read with an exception on every poll, through the whole gateway (issue 6,
// "Errors where a user is stuck"). What broke: the decoder logged "device plc1 request 1: exception
// code 2" with every batch, forever, and never said which addresses or points, or what 2 means.
// Now: pymodbus (an independent peer) serves 10 holding registers and answers exception 2 for a read
// past them; the gateway logs one warning that names the read, the points and the meaning, while
// the mapped point keeps being published at the poll rate.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const POLLS = 30;

function pipelineYaml(port: number): string {
  return `pipeline:
  name: boiler-room
  batch: { max_records: 64, deadline: 500ms }
source:
  modbus_tcp:
    devices:
      - name: plc1
        host: 127.0.0.1
        port: ${port}
        unit_id: 1
        interval: 50ms
        timeout: 500ms
        retries: 0
        points:
          - { name: boiler.temp, function: 3, address: 0, type: uint16 }
          - { name: boiler.setpoint, function: 3, address: 20, type: uint32 }
steps:
  - plugin: modbus
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "plant/{pipeline}/{point}"
  qos: 0
`;
}

let broker: TestBroker;
let plc: PymodbusServer;
const skip = needs('python3-pymodbus', !!findPymodbusPython());
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  if (!skip.skip) plc = await startPymodbusServer({ holding: { 0: [1234] }, size: { holding: 10 } });
});
after(async () => {
  await plc?.stop();
  await broker?.dispose();
});

test('an exception on every poll is one warning naming read, points and meaning; the good point keeps its rate', skip, async () => {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { records.push(JSON.parse(chunk.toString())); done(); } });
  const logger = pino({ level: 'info' }, sink);
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(plc.port));
  const subscriber = await subscribe(broker.url, 'plant/boiler-room/#');
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger, statusIntervalMs: 0 });
  try {
    const count = (point: string) => subscriber.messages.filter((m) => m.topic === `plant/boiler-room/${point}`).length;
    await subscriber.waitUntil(() => count('boiler.setpoint') >= POLLS, `${POLLS} polls of the failing read`, 30_000);
    const good = subscriber.messages.filter((m) => m.topic === 'plant/boiler-room/boiler.temp').map((m) => JSON.parse(m.payload.toString()));
    const bad = subscriber.messages.filter((m) => m.topic === 'plant/boiler-room/boiler.setpoint').map((m) => JSON.parse(m.payload.toString()));
    // Each poll reads both: the good point is published as often as the failing one, give or take the poll in flight.
    assert.ok(Math.abs(good.length - bad.length) <= 1, `${good.length} good and ${bad.length} failed readings`);
    assert.ok(good.every((b) => b.value === 1234 && b.quality === 'good'));
    assert.ok(bad.every((b) => b.quality === 'bad'));
    const exceptionLines = records.filter((r) => String(r.msg).includes('exception'));
    assert.equal(exceptionLines.length, 1, JSON.stringify(exceptionLines));
    assert.equal(exceptionLines[0]!.msg,
      'device plc1 unit 1, function 3 (read holding registers) of addresses 20-21: exception 2 (illegal data address): ' +
        "check the addresses against the device's register map; points boiler.setpoint: NaN, bad; repeats are counted, not logged");
    assert.equal(exceptionLines[0]!.plugin, 'modbus');
    assert.equal(exceptionLines[0]!.pipeline, 'boiler-room');
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
  }
});
