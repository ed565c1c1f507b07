// BACnet COV end to end with an independent stack: a @bacnet-js/client device that serves
// SubscribeCOV (bacnet-cov-server.ts) and one that does not (bacnet-js refuses an unhandled service
// with an Error: services, reject-unrecognized-service), both in one pipeline with `cov:`. The first
// is never polled: its values reach the mosquitto subscriber by COV notification, a change in the
// simulator arrives without a read, its subscriptions are renewed at half their lifetime and
// cancelled at stop, and the simulator sees each confirmed notification acknowledged. The second
// falls back to polling (ReadPropertyMultiple at its interval) with the reason in status.
// Expected values by hand: 68 degF = (68 + 459.67) x 5/9 K = 293.15 K; 71.6 degF = 295.15 K.
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
import { real, enumerated, startBacnetDevice, type SimObject } from '../support/bacnet-device.js';
import { readiness } from '../../src/host/metrics/health.js';
import { GATEWAY_METRICS } from '../../src/host/metrics/gateway-metrics.js';

const objects = (): SimObject[] => [
  { type: 0, instance: 1, properties: { 85: real(68), 111: [{ type: 8, value: { bitsUsed: 4, value: [0x00] } }] } },
  { type: 3, instance: 3, properties: { 85: enumerated(1) } },
];

function pipelineYaml(cov: { port: number; confirmed: boolean }, refusing: { port: number }): string {
  const points = `
        points:
          - { name: supply.temp, object_type: analog-input, instance: 1, unit: degrees-fahrenheit }
          - { name: supply.flags, object_type: analog-input, instance: 1, property: status-flags }
          - { name: fan.status, object_type: binary-input, instance: 3 }`;
  return `pipeline:
  name: hvac
  batch: { max_records: 64, deadline: 100ms }
source:
  bacnet_ip:
    devices:
      - name: ahu1
        host: 127.0.0.1
        port: ${cov.port}
        device_instance: 1201
        interval: 1h
        timeout: 300ms
        retries: 0
        cov: { lifetime: 3s, confirmed: ${cov.confirmed}, process_id: 77 }${points}
      - name: ahu2
        host: 127.0.0.1
        port: ${refusing.port}
        device_instance: 1202
        interval: 100ms
        timeout: 300ms
        retries: 0
        cov: { lifetime: 3s }${points}
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

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

function values(messages: readonly ReceivedMessage[], device: string, point: string): Array<{ value: unknown; quality: unknown }> {
  return messages
    .filter((m) => m.topic === `bms/gw-test/${device}/${point}`)
    .map((m) => JSON.parse(m.payload.toString()) as { value: unknown; quality: unknown });
}

const near = (a: unknown, b: number) => typeof a === 'number' && Math.abs(a - b) < 1e-4;

/** Resolves once `done()` holds, checking every 20 ms; fails after `ms`. */
async function until(done: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const confirmed of [true, false]) {
  test(`COV (${confirmed ? 'confirmed' : 'unconfirmed'} notifications): values arrive without a poll, a change arrives, renewal at half the lifetime, cancel at stop; a refusing device is polled`, async () => {
    const covDevice = await startBacnetDevice(1201, objects(), { cov: true });
    const refusing = await startBacnetDevice(1202, objects());
    const subscriber = await subscribe(broker.url, 'bms/#');
    const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml({ port: covDevice.port, confirmed }, { port: refusing.port }));
    const loaded = await loadGatewayConfig(fixture.gatewayFile);
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
    let stopped = false;
    try {
      const cov = covDevice.cov!;
      // One subscription per object: analog-input 1 (two points) and binary-input 3.
      await subscriber.waitUntil((m) => values(m, 'ahu1', 'supply.temp').length > 0 && values(m, 'ahu1', 'fan.status').length > 0 && values(m, 'ahu1', 'supply.flags').length > 0, 'the initial notifications of ahu1', 10_000);
      assert.deepEqual(cov.requests.slice(0, 2).map((r) => [r.processId, r.object, r.cancel, r.confirmed, r.lifetime]), [[77, '0:1', false, confirmed, 3], [77, '3:3', false, confirmed, 3]]);
      const first = subscriber.messages;
      assert.ok(near(values(first, 'ahu1', 'supply.temp')[0]!.value, 293.15), JSON.stringify(values(first, 'ahu1', 'supply.temp')));
      assert.deepEqual(values(first, 'ahu1', 'fan.status')[0], { ...values(first, 'ahu1', 'fan.status')[0], value: true, quality: 'good' });
      assert.equal(values(first, 'ahu1', 'supply.flags')[0]!.value, 0);

      // A change in the simulator: 71.6 degF comes by notification, never by a read.
      covDevice.set(0, 1, 85, real(71.6));
      await subscriber.waitUntil((m) => values(m, 'ahu1', 'supply.temp').some((v) => near(v.value, 295.15)), 'the changed value of ahu1', 10_000);
      assert.deepEqual(covDevice.requests, { readProperty: 0, readPropertyMultiple: 0 }, 'ahu1 is not polled while subscribed');

      // Renewal at half the 3 s lifetime: each object subscribed to again.
      await until(() => cov.requests.filter((r) => !r.cancel).length >= 4, 'renewals of both subscriptions', 10_000);
      assert.deepEqual(cov.requests.slice(2, 4).map((r) => [r.object, r.cancel, r.lifetime]), [['0:1', false, 3], ['3:3', false, 3]]);
      if (confirmed) {
        await until(() => cov.acked() >= 3, 'three confirmed notifications acknowledged', 10_000);
        assert.equal(cov.unacked(), 0, 'every confirmed notification acknowledged');
      }

      // ahu2 refused: polled by ReadPropertyMultiple at its interval, the reason in status.
      await subscriber.waitUntil((m) => values(m, 'ahu2', 'supply.temp').length >= 2, 'ahu2 polled twice', 10_000);
      assert.ok(refusing.requests.readPropertyMultiple >= 2);
      const covOf = (name: string) => gateway.status().pipelines[0]!.devices.find((d) => d.device === name)!.cov!;
      // The simulator saw the renewals; the gateway counts a round once it read every answer.
      await until(() => covOf('ahu1').rounds >= 2, 'the renewal round accepted', 10_000);
      assert.equal(covOf('ahu1').state, 'subscribed');
      assert.equal(covOf('ahu2').state, 'polling');
      const gauge = GATEWAY_METRICS.find((m) => m.name === 'wasmgate_device_cov_subscribed')!.samples(gateway.status());
      assert.deepEqual(gauge.map((g) => [g.labels.device, g.value]), [['ahu1', 1], ['ahu2', 0]]);
      // bacnet-js answers a service it has no handler for with Error class services (5), code 67
      // (reject-unrecognized-service, which the decoder does not name).
      assert.equal(covOf('ahu2').reason, 'SubscribeCOV refused: analog-input 1: error services code 67');

      await gateway.stop();
      stopped = true;
      const cancels = cov.requests.filter((r) => r.cancel).map((r) => r.object).sort();
      assert.deepEqual(cancels, ['0:1', '3:3'], 'both subscriptions cancelled at stop');
    } finally {
      if (!stopped) await gateway.stop();
      await subscriber.close();
      await fixture.dispose();
      await covDevice.close();
      await refusing.close();
    }
  });
}

test('a device that does not answer SubscribeCOV is polled; asked again at the renewal time, it is subscribed to, and polled only every refresh', async () => {
  const device = await startBacnetDevice(1203, objects(), { cov: true });
  device.setMode('silent');
  const subscriber = await subscribe(broker.url, 'bms/#');
  const yaml = pipelineYaml({ port: device.port, confirmed: false }, { port: device.port })
    .replace(/      - name: ahu2[\s\S]*?(?=steps:)/, '')
    .replace('cov: { lifetime: 3s, confirmed: false, process_id: 77 }', 'cov: { lifetime: 3s, refresh: 200ms }')
    .replace('interval: 1h', 'interval: 100ms');
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), yaml);
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
  const covState = () => gateway.status().pipelines[0]!.devices[0]!.cov as { state: string; reason?: string };
  try {
    // Silent: the subscription goes unanswered, the device is polled (and its points are no-comm).
    await subscriber.waitUntil((m) => values(m, 'ahu1', 'supply.temp').some((v) => v.quality === 'no-comm'), 'a no-comm reading of the silent device', 10_000);
    assert.deepEqual(covState(), { ...covState(), state: 'polling', reason: 'no answer to SubscribeCOV within 300 ms' });
    device.setMode('answer');
    // At the renewal time (1.5 s) it is asked again and accepts: values come by notification.
    await until(() => covState().state === 'subscribed', 'the device subscribed to at the renewal time', 10_000);
    // Ready (/readyz) though its subscriptions, not polls, are what it answered since it came back.
    assert.deepEqual(readiness(gateway.status()).problems, []);
    const polled = device.requests.readPropertyMultiple;
    await subscriber.waitUntil((m) => values(m, 'ahu1', 'supply.temp').some((v) => v.quality === 'good'), 'a good value', 10_000);
    // refresh: 200ms: still read now and then while subscribed.
    await until(() => device.requests.readPropertyMultiple > polled, 'a refresh poll while subscribed', 10_000);
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
    await device.close();
  }
});
