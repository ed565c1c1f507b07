// BACnet/IP end to end with an independent stack: @bacnet-js/client serves objects as a device on
// loopback; the gateway (bacnet_ip source, UDP HAL, bacnet → si → json in the pipeline worker) reads
// them by ReadPropertyMultiple and by ReadProperty and publishes to mosquitto, where a subscriber
// checks every value. Expected values are the device table's, converted by hand where si converts:
// 68 degF = (68 + 459.67) x 5/9 K = 293.15 K.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { boolean, enumerated, real, startBacnetDevice, type BacnetDevice, type SimObject } from '../support/bacnet-device.js';

// analog-input 1: supply air, 68 degF; analog-value 2: a setpoint in percent; binary-input 3: a fan
// status, active; analog-input 1's status flags: fault set (bit 1 of in-alarm, fault, overridden,
// out-of-service: 0100 -> 2); multi-state-value 4: mode 3.
const OBJECTS: SimObject[] = [
  { type: 0, instance: 1, properties: { 85: real(68), 117: enumerated(64), 111: [{ type: 8, value: { bitsUsed: 4, value: [0x02] } }], 81: boolean(false), 103: enumerated(0) } },
  { type: 2, instance: 2, properties: { 85: real(42.5), 117: enumerated(98) } },
  { type: 3, instance: 3, properties: { 85: enumerated(1) } },
  { type: 19, instance: 4, properties: { 85: [{ type: 2, value: 3 }] } },
];

function pipelineYaml(devices: Array<{ name: string; port: number; instance: number; readMultiple?: boolean }>): string {
  const points = `
        points:
          - { name: supply.temp, object_type: analog-input, instance: 1, unit: degrees-fahrenheit }
          - { name: supply.units, object_type: analog-input, instance: 1, property: units }
          - { name: supply.flags, object_type: analog-input, instance: 1, property: status-flags }
          - { name: supply.oos, object_type: analog-input, instance: 1, property: out-of-service }
          - { name: supply.reliability, object_type: analog-input, instance: 1, property: reliability }
          - { name: damper.setpoint, object_type: analog-value, instance: 2, unit: percent }
          - { name: fan.status, object_type: binary-input, instance: 3 }
          - { name: mode, object_type: 19, instance: 4, property: 85 }
          - { name: missing, object_type: analog-input, instance: 99 }`;
  return `pipeline:
  name: hvac
  batch: { max_records: 64, deadline: 500ms }
source:
  bacnet_ip:
    devices:
${devices.map((d) => `      - name: ${d.name}
        host: 127.0.0.1
        port: ${d.port}
        device_instance: ${d.instance}
        interval: 100ms
        timeout: 300ms
        retries: 0
        read_multiple: ${d.readMultiple ?? true}${points}`).join('\n')}
steps:
  - plugin: bacnet
  - plugin: si
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "bms/{gateway}/{device}/{point}"
  qos: 1
`;
}

const EXPECTED: Record<string, { value: unknown; quality: string; unit?: string }> = {
  'supply.temp': { value: 293.15, quality: 'good', unit: 'K' },
  'supply.units': { value: 64, quality: 'good' },
  'supply.flags': { value: 2, quality: 'good' },
  'supply.oos': { value: false, quality: 'good' },
  'supply.reliability': { value: 0, quality: 'good' },
  'damper.setpoint': { value: 0.425, quality: 'good', unit: 'ratio' },
  'fan.status': { value: true, quality: 'good' },
  mode: { value: 3, quality: 'good' },
  missing: { value: null, quality: 'bad' },
};

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

const silent = pino({ level: 'silent' });

async function startGateway(yaml: string) {
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), yaml);
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: silent, statusIntervalMs: 0 });
  return { gateway, fixture };
}

function latest(messages: readonly ReceivedMessage[], device: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const m of messages) {
    if (!m.topic.includes(`/${device}/`)) continue;
    const body = JSON.parse(m.payload.toString()) as Record<string, unknown>;
    out.set(String(body.point), { ...body, topic: m.topic });
  }
  return out;
}

async function assertReadings(device: BacnetDevice, readMultiple: boolean): Promise<void> {
  const subscriber = await subscribe(broker.url, 'bms/#');
  const { gateway, fixture } = await startGateway(pipelineYaml([{ name: 'ahu1', port: device.port, instance: 1201, readMultiple }]));
  try {
    await subscriber.waitUntil((m) => latest(m, 'ahu1').size === Object.keys(EXPECTED).length, 'a message for every point', 10_000);
    const got = latest(subscriber.messages, 'ahu1');
    for (const [point, expected] of Object.entries(EXPECTED)) {
      const body = got.get(point)!;
      assert.equal(body.topic, `bms/gw-test/ahu1/${point}`);
      if (typeof expected.value === 'number' && !Number.isInteger(expected.value)) assert.ok(Math.abs((body.value as number) - expected.value) < 1e-9, `${point}: ${String(body.value)}`);
      else assert.deepEqual(body.value, expected.value, point);
      assert.equal(body.quality, expected.quality, point);
      if (expected.unit) assert.equal(body.unit, expected.unit, point);
    }
    if (readMultiple) assert.ok(device.requests.readPropertyMultiple > 0 && device.requests.readProperty === 0, 'read by ReadPropertyMultiple');
    else assert.ok(device.requests.readProperty > 0 && device.requests.readPropertyMultiple === 0, 'read by ReadProperty');
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
  }
}

test('ReadPropertyMultiple from a @bacnet-js/client device → si → json → mosquitto: every value and unit right', async () => {
  const device = await startBacnetDevice(1201, OBJECTS);
  try {
    await assertReadings(device, true);
  } finally {
    await device.close();
  }
});

test('ReadProperty per point (read_multiple: false) gives the same readings', async () => {
  const device = await startBacnetDevice(1201, OBJECTS);
  try {
    await assertReadings(device, false);
  } finally {
    await device.close();
  }
});
