// Regression, issue 6 "bounded input": a device that answered once and then streamed bytes grew the
// daemon's RSS by 45 MB/s to 2.5 GB and froze it, because the receive queue had no limit. Now a link
// holds at most rxLimitBytes; past it the bytes are discarded and counted, the link is closed and
// reopened with back-off, and a healthy device on the same gateway keeps its poll rate.
// The daemon runs as a real child process (its RSS is what is measured); the devices are real TCP
// servers: the demo PLC simulator (healthy) and a flooding device fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startFloodingDevice } from '../fixtures/devices/flooding-device.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const MB = 1024 * 1024;
/**
 * The daemon may grow this much while the flood goes on: every reconnect reads a 64 KiB socket buffer
 * or two before the link is dropped, and that garbage lives outside the JS heap until V8's
 * external-memory threshold triggers a collection (about 30 MB measured here; the same run with an
 * unbounded queue grew 117 MB by 830 MB sent, and keeps growing with what is sent)...
 */
const RSS_BOUND = 48 * MB;
/** ...while the device sends this many times as much. Unbounded, the queue would hold it all. */
const SENT_FACTOR = 50;
const WINDOW_MS = 2_000;

function pipelineFile(healthyPort: number, floodPort: number): string {
  return `pipeline:
  name: plant
source:
  modbus_tcp:
    devices:
      - name: healthy
        host: 127.0.0.1
        port: ${healthyPort}
        interval: 50ms
        timeout: 500ms
        retries: 0
        points:
          - { name: healthy.level, function: 3, address: 0, type: uint16 }
      - name: flooder
        host: 127.0.0.1
        port: ${floodPort}
        interval: 20ms
        timeout: 500ms
        retries: 0
        backoff: { min: 10ms, max: 20ms }
        points:
          - { name: flooder.level, function: 3, address: 0, type: uint16 }
steps:
  - plugin: modbus
  - plugin: json
publish:
  uplink: cloud
  topic: "plant/{device}/{point}"
`;
}

/** Requests the device received during one window of WINDOW_MS. */
async function requestsInWindow(device: { readonly requests: number }, during: () => void = () => {}): Promise<number> {
  const start = device.requests;
  const end = Date.now() + WINDOW_MS;
  while (Date.now() < end) {
    during();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return device.requests - start;
}

test('a device that answers once and then floods the link: memory stays bounded, the healthy device keeps its poll rate', { timeout: 120_000 }, async () => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  const healthy = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  const flooder = await startFloodingDevice();
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-flood', { logLevel: 'info' }), pipelineFile(healthy.port, flooder.port));
  const gateway = startGatewayProcess(fixture.gatewayFile);
  try {
    await waitFor(() => healthy.requests >= 20 && flooder.requests >= 20, 30_000, () => `healthy ${healthy.requests}, flooder ${flooder.requests}`);
    const before = await requestsInWindow(healthy);
    const rssBefore = gateway.rssBytes();

    flooder.flood();
    let rssPeak = rssBefore;
    const sample = (): void => {
      rssPeak = Math.max(rssPeak, gateway.rssBytes());
    };
    const during = await requestsInWindow(healthy, sample);
    const sentTarget = SENT_FACTOR * RSS_BOUND;
    await waitFor(() => {
      sample();
      return flooder.bytesSent >= sentTarget;
    }, 90_000, () => `the flooder sent ${(flooder.bytesSent / MB).toFixed(0)} MB of ${sentTarget / MB} MB`);
    sample();

    const growth = rssPeak - rssBefore;
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MB).toFixed(1)} MB while the device sent ${(flooder.bytesSent / MB).toFixed(0)} MB`);
    assert.ok(during >= 0.6 * before, `the healthy device was polled ${during} times during the flood, ${before} times in a window before`);
    const overflow = await gateway.waitForLine((l) => l.includes('"WG_ERR_HAL_RX_OVERFLOW"'), 'an rx overflow log line', 10_000);
    const logged = JSON.parse(overflow) as Record<string, unknown>;
    assert.equal(logged.device, 'flooder');
    assert.equal(logged.host, '127.0.0.1');
    assert.equal(logged.port, flooder.port);
    assert.ok(Number(logged.rxOverflows) >= 1 && Number(logged.rxDiscardedBytes) > 0, overflow);
    assert.ok(flooder.connections >= 3, `the link was closed and reopened (${flooder.connections} connections)`);
  } finally {
    await gateway.stop();
    await fixture.dispose();
    await flooder.close();
    await healthy.close();
    await broker.dispose();
  }
});
