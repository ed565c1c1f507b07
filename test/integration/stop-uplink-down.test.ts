// Regression: SIGTERM while the uplink was down never ended the daemon. With the broker gone, back-
// pressure filled the rings and held the worker waiting for egress room; the poller then waited for an
// answer to a poll-channel call (framing a response) that the held worker could never give, and
// stop() waited for the poller: forever, until systemd's TimeoutStopSec ran out and it sent SIGKILL.
// Since the outbox holds the backlog on disk, the uplink being away no longer holds the pipeline at
// all: the PLC keeps being polled, and the stop is checked in that state.
// Real daemon (child process), real PLC, real broker that is then stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { REPO_ROOT } from '../support/plugins.js';

const POINTS = 100;
/** What the unit gives the daemon to stop before it kills it. */
const TIMEOUT_STOP_MS = Number(/^TimeoutStopSec=(\d+)$/m.exec(readFileSync(join(REPO_ROOT, 'systemd', 'wasmgate.service'), 'utf8'))![1]) * 1000;

function pipelineFile(plcPort: number): string {
  const points = Array.from({ length: POINTS }, (_, i) => `          - { name: p${i}, function: 3, address: ${i}, type: uint16 }`).join('\n');
  // Small rings and 100 messages a poll: the uplink's backlog limit is reached within seconds.
  return `pipeline:
  name: plant
  ring: { ingress: 4KiB, egress: 4KiB }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 20ms
        timeout: 300ms
        points:
${points}
steps:
  - plugin: modbus
  - plugin: json
publish:
  uplink: cloud
  topic: "plant/{point}"
`;
}

test('while the uplink is down the PLC is still polled, and SIGTERM ends the daemon within TimeoutStopSec', { timeout: 120_000 }, async (t) => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  let brokerUp = true;
  t.after(() => (brokerUp ? broker.dispose() : undefined));
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: Array.from({ length: POINTS }, (_, i) => i) } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-uplink-down', { logLevel: 'info' }), pipelineFile(plc.port));
  t.after(() => fixture.dispose());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('mqtt uplink connected'), 'the uplink connected', 30_000);
  await waitFor(() => plc.requests >= 20, 30_000);
  brokerUp = false;
  await broker.dispose();
  // The outage does not reach the source: polling goes on at its rate (20 ms: 50 polls a second).
  const before = plc.requests;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.ok(plc.requests - before >= 20, `the PLC was polled ${plc.requests - before} times in the 2 s after the broker went`);
  const exit = gateway.stop();
  const outcome = await Promise.race([exit.then((code) => ({ code })), new Promise<'killed'>((resolve) => setTimeout(() => resolve('killed'), TIMEOUT_STOP_MS).unref())]);
  assert.notEqual(outcome, 'killed', `the daemon was still running ${TIMEOUT_STOP_MS} ms after SIGTERM: systemd would SIGKILL it`);
  assert.deepEqual(outcome, { code: 0 });
  assert.ok(gateway.lines.some((l) => l.includes('gateway stopped')));
});
