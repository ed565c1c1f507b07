/**
 * Modbus TCP with in_flight 16 against a device that answers out of order, drops some requests, and
 * delivers its answers glued together or one byte at a time (test/fixtures/devices/shuffling-device.ts,
 * a fixture because no real server misbehaves on request). Every register holds its own address, so a
 * good reading is right when its value is its point's address: no answer may be taken for another's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startShufflingDevice } from '../fixtures/devices/shuffling-device.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { waitFor } from '../support/wait.js';

/** Sixteen points 200 registers apart: sixteen requests per cycle, all in flight at once. */
const ADDRESSES = Array.from({ length: 16 }, (_, i) => i * 200 + 7);

for (const delivery of ['glued', 'bytes'] as const) {
  test(`in_flight 16, answers reversed, every 7th dropped, ${delivery}: each good reading is its own register's`, async () => {
    const device = await startShufflingDevice({ batch: 16, dropEvery: 7, delivery });
    const points = ADDRESSES.map((a) => `{ name: r${a}, function: 3, address: ${a}, type: uint16 }`).join(', ');
    const run = await startCapturedPipeline(`pipeline: { name: shuffled }
source:
  modbus_tcp:
    devices:
      - { name: d, host: 127.0.0.1, port: ${device.port}, in_flight: 16, interval: 100ms, timeout: 150ms, retries: 0, points: [ ${points} ] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
    try {
      await waitFor(() => device.requests >= 160, 20_000, () => JSON.stringify(run.pipeline.status().devices));
      const status = run.pipeline.status();
      let good = 0;
      for (const m of run.messages()) {
        if (m.quality !== 'good') continue;
        good++;
        assert.equal(m.value, Number(String(m.point).slice(1)), `point ${String(m.point)} read ${String(m.value)}`);
      }
      assert.ok(device.peakWaiting > 1, 'requests were in flight together');
      assert.ok(good > 0);
      assert.ok(status.devices[0]!.timeouts >= device.dropped - 16, JSON.stringify(status.devices[0]));
    } finally {
      await run.stop();
      await device.close();
    }
  });
}
