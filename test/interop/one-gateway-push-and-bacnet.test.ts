/**
 * Issue 8's "done when", in one gateway: a BACnet/IP device read by COV (a @bacnet-js/client device
 * that serves SubscribeCOV, so not our code on the other end), a device POSTing over CoAP (Debian's
 * libcoap coap-client-notls) and a device publishing over MQTT (Debian's mosquitto_pub into the same
 * mosquitto the uplink uses), three pipelines of three source kinds, every value at one subscriber.
 * Expected values by hand: 68 degF = (68 + 459.67) × 5/9 K = 293.15 K (si turns degF into kelvin); the
 * pushed bodies carry their values as written.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { mosquittoPubPath, publish } from '../support/mosquitto-pub.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { freeUdpPort, real, startBacnetDevice } from '../support/bacnet-device.js';
import { coapClient, findCoapClient } from '../support/coap-client.js';
import { needs } from '../support/tools.js';

const gate = needs('mosquitto, mosquitto_pub and coap-client-notls', mosquittoPath() !== undefined && mosquittoPubPath() !== undefined && findCoapClient());

const BMS = (port: number) => `pipeline: { name: bms }
source:
  bacnet_ip:
    devices:
      - name: ahu1
        host: 127.0.0.1
        port: ${port}
        device_instance: 1201
        interval: 1h
        timeout: 300ms
        cov: { lifetime: 60s }
        points:
          - { name: supply.temp, object_type: analog-input, instance: 1, unit: degrees-fahrenheit }
steps:
  - plugin: bacnet
  - plugin: si
  - plugin: json
    with: { shape: sample }
publish: { uplink: cloud, topic: "all/{device}/{point}", qos: 1 }
`;

const ROOMS = (port: number) => `pipeline: { name: rooms }
source:
  coap_server:
    bind: 127.0.0.1
    port: ${port}
    devices:
      - name: room1
        resource: rooms/1
        points: [ { name: temp, unit: degC }, { name: hum, unit: percent } ]
steps:
  - plugin: payload
  - plugin: json
    with: { shape: sample }
publish: { uplink: cloud, topic: "all/{device}/{point}", qos: 1 }
`;

const SENSORS = (url: string) => `pipeline: { name: sensors }
source:
  mqtt_subscribe:
    broker: { url: ${url}, client_id: gw-test-sensors }
    topics: [ { pattern: "field/{device}/{point}" } ]
    devices:
      - name: boiler1
        points: [ { name: pressure, unit: bar } ]
steps:
  - plugin: payload
  - plugin: json
    with: { shape: sample }
publish: { uplink: cloud, topic: "all/{device}/{point}", qos: 1 }
`;

function latest(messages: readonly ReceivedMessage[], topic: string): number | undefined {
  const hit = messages.filter((m) => m.topic === topic).at(-1);
  return hit === undefined ? undefined : (JSON.parse(hit.payload.toString()) as { value: number }).value;
}

test('one gateway: a BACnet device by COV, a CoAP POST and an MQTT message, each through its plugin chain to one subscriber', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const device = await startBacnetDevice(1201, [{ type: 0, instance: 1, properties: { 85: real(68) } }], { cov: true });
  t.after(() => device.close());
  const coapPort = await freeUdpPort();
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-test', { pipelines: ['./bms.yaml', './rooms.yaml', './sensors.yaml'] }), '');
  t.after(() => fixture.dispose());
  await writeFile(join(fixture.dir, 'bms.yaml'), BMS(device.port));
  await writeFile(join(fixture.dir, 'rooms.yaml'), ROOMS(coapPort));
  await writeFile(join(fixture.dir, 'sensors.yaml'), SENSORS(broker.url));
  const subscriber = await subscribe(broker.url, 'all/#');
  t.after(() => subscriber.close());
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
  t.after(() => gateway.stop());

  // BACnet: the first COV notification, no read.
  await subscriber.waitUntil((m) => latest(m, 'all/ahu1/supply.temp') !== undefined, 'the COV notification of ahu1', 15_000);
  assert.ok(Math.abs(latest(subscriber.messages, 'all/ahu1/supply.temp')! - 293.15) < 1e-4);
  assert.deepEqual(device.requests, { readProperty: 0, readPropertyMultiple: 0 }, 'read by COV only');

  // CoAP: a Confirmable POST of the whole device, answered 2.04.
  const status = () => gateway.status().pipelines.find((p) => p.name === 'sensors')!.pushSources[0]!;
  const run = await coapClient(['-m', 'post', '-t', '50', '-e', '{"temp": 21.5, "hum": 40}', `coap://127.0.0.1:${coapPort}/rooms/1`]);
  assert.deepEqual(run.answers, [['ACK', '2.04']], run.log);

  // MQTT: once the source's subscription is acknowledged, one message from mosquitto_pub.
  const deadline = Date.now() + 15_000;
  while (!status().listening && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(status().listening, JSON.stringify(status()));
  await publish(broker.port, 'field/boiler1/pressure', '1.85', { qos: 1 });

  await subscriber.waitUntil((m) => latest(m, 'all/room1/temp') !== undefined && latest(m, 'all/room1/hum') !== undefined && latest(m, 'all/boiler1/pressure') !== undefined, 'the pushed readings', 15_000);
  assert.equal(latest(subscriber.messages, 'all/room1/temp'), 21.5);
  assert.equal(latest(subscriber.messages, 'all/room1/hum'), 40);
  assert.equal(latest(subscriber.messages, 'all/boiler1/pressure'), 1.85);
});
