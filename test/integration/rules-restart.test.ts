/**
 * Rule state survives a daemon killed with SIGKILL (issue 10): an alarm that is active when the
 * gateway dies is still active after it comes back, so it neither fires a second time nor loses its
 * clear. Without the state kept in the data directory the restarted rules see the hot boiler as new
 * and send a second "active". Real daemon, mosquitto, the PLC simulator, an independent subscriber.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

function pipelineYaml(plcPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 100ms, points: [ { name: boiler.temp, function: 3, address: 0, type: int16 } ] }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - { name: hot, when: boiler.temp > 95, hysteresis: 5 }
`;
}

test('an alarm active when the daemon is killed stays active after the restart: no second fire, and its clear arrives', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [99] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-restart', { logLevel: 'info' }), pipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, '#', { persistentId: 'rules-restart-subscriber' });
  t.after(() => subscriber.close());
  const alarms = () => subscriber.messages.filter((m) => m.topic.endsWith('/alarms/hot')).map((m) => (JSON.parse(m.payload.toString()) as { state: string }).state);

  const first = startGatewayProcess(fixture.gatewayFile);
  t.after(() => first.kill());
  await first.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await waitFor(() => alarms().length >= 1, 20_000, () => `alarms: ${alarms().join()}`);
  // Saved after the batch that fired (the periodic save comes 10 s after the start).
  await waitFor(() => existsSync(join(fixture.dir, 'data', 'rules', 'plant.state')), 10_000);
  await first.kill();

  const restartedAt = Date.now();
  const second = startGatewayProcess(fixture.gatewayFile);
  t.after(() => second.stop());
  await second.waitForLine((l) => l.includes('"rule.state_restored"'), 'the rules restored', 30_000);
  // Readings taken by the restarted gateway, all above 95: the rules saw them, and fired nothing.
  const fresh = () => subscriber.messages.filter((m) => m.topic === 'plant/boiler.temp' && (JSON.parse(m.payload.toString()) as { ts: number }).ts > restartedAt).length;
  await waitFor(() => fresh() >= 10, 20_000, () => `${fresh()} readings since the restart`);
  plc.setHolding(0, [80]);
  await waitFor(() => alarms().length >= 2, 20_000, () => `alarms: ${alarms().join()}`);
  assert.deepEqual(alarms(), ['active', 'cleared']);
});
