// Regression, issue 6: `interval: 720h` (a monthly meter read) is more than setTimeout can hold
// (2^31-1 ms), so Node fired the poll timer after 1 ms with a TimeoutOverflowWarning per poll and the
// gateway hammered the meter. A long interval must mean one poll now and none for 720 h.
// Real gateway in process, real PLC simulators: a monthly meter next to a fast device whose poll
// count is the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startAedes } from '../support/aedes.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { waitFor } from '../support/wait.js';

function pipelineYaml(meterPort: number, fastPort: number): string {
  return `pipeline:
  name: meters
source:
  modbus_tcp:
    devices:
      - name: monthly-meter
        host: 127.0.0.1
        port: ${meterPort}
        interval: 720h
        points:
          - { name: energy, function: 3, address: 0, type: uint16 }
      - name: fast
        host: 127.0.0.1
        port: ${fastPort}
        interval: 10ms
        points:
          - { name: level, function: 3, address: 0, type: uint16 }
steps:
  - plugin: modbus
  - plugin: json
publish:
  uplink: cloud
  topic: "m/{device}/{point}"
`;
}

test('interval 720h: one poll, then none while a 10 ms device is polled 100 times; no TimeoutOverflowWarning', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  const broker = await startAedes();
  const meter = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1] } } });
  const fast = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [2] } } });
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(meter.port, fast.port));
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'silent' }), statusIntervalMs: 0 });
  try {
    await waitFor(() => meter.requests >= 1, 10_000, () => 'the first poll of the meter');
    const from = fast.requests;
    await waitFor(() => fast.requests >= from + 100, 30_000, () => `fast device at ${fast.requests - from} polls`);
    assert.equal(meter.requests, 1, 'the meter was polled once');
    const status = gateway.status().pipelines[0]!.devices.find((d) => d.device === 'monthly-meter')!;
    assert.equal(status.polls, 1);
    assert.equal(status.overruns, 0);
    assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message), []);
  } finally {
    process.off('warning', onWarning);
    await gateway.stop();
    await fixture.dispose();
    await meter.close();
    await fast.close();
    await broker.dispose();
  }
});
