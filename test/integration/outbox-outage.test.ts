/**
 * The readings of a broker outage survive the gateway being killed (SIGKILL) during it. Before the
 * outbox, what the gateway held in memory for the broker died with it: a hole of the whole outage in
 * every point's series. Real daemon (child process), the PLC simulator, mosquitto stopped and started
 * again with its persistent sessions, an independent subscriber with a persistent session. Each
 * reading carries the time it was taken (`ts`, epoch ms), so the subscriber can tell which part of
 * the outage it got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const INTERVAL_MS = 100;

async function started(file: string): Promise<GatewayProcess> {
  const gateway = startGatewayProcess(file);
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  return gateway;
}

async function killed(gateway: GatewayProcess): Promise<void> {
  process.kill(gateway.pid, 'SIGKILL');
  await waitFor(() => {
    try {
      process.kill(gateway.pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000);
}

test('a gateway killed during a broker outage delivers the outage\'s readings after its restart', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-outage', { logLevel: 'info' }), onePointPipelineYaml(plc.port, { intervalMs: INTERVAL_MS }));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/#', { persistentId: 'outage-subscriber' });
  t.after(() => subscriber.close());

  const first = await started(fixture.gatewayFile);
  await subscriber.waitFor(5, 20_000);
  await broker.stop();
  const outageFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const killedAt = Date.now();
  await killed(first);

  const second = await started(fixture.gatewayFile);
  t.after(() => second.stop());
  await broker.start();
  // The outage's readings: taken between the broker going and the kill, while the gateway could not
  // deliver them. Leave out the last half second (what the last turn held, not yet appended).
  // The json step's `ts` is epoch milliseconds by default.
  const times = () => subscriber.messages.map((m) => (JSON.parse(m.payload.toString()) as { ts: number }).ts);
  const inOutage = () => times().filter((ts) => ts >= outageFrom + 200 && ts <= killedAt - 500);
  const expected = Math.floor((killedAt - 500 - (outageFrom + 200)) / INTERVAL_MS);
  await waitFor(() => inOutage().length >= expected * 0.8, 30_000, () => `${inOutage().length} readings of the outage arrived, about ${expected} were taken; ${subscriber.messages.length} in all; log: ${second.lines.filter((l) => /outbox|error|warn|uplink/.test(l)).slice(-8).join('\n')}`);
  assert.ok(inOutage().length >= expected * 0.8);
});
