/**
 * Regression (issue 10): the rules' state file was keyed on the whole compiled module, so editing one
 * rule reset every alarm and timer: after a reload each still-hot alarm fired a second time, and the
 * alarm of a removed rule stayed active on the cloud side for ever. Now each unchanged rule keeps its
 * state, and an active alarm whose rule was changed or removed is cleared, marked withdrawn. Through
 * a real reload (SIGHUP) and a restart of the real daemon; mosquitto; the PLC simulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

function pipelineYaml(plcPort: number, rules: string[]): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plcPort}, interval: 100ms, points: [ { name: boiler.temp, function: 3, address: 0, type: int16 } ] }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
${rules.map((r) => `  - ${r}\n`).join('')}`;
}

const V1 = ['{ name: hot, when: boiler.temp > 95, hysteresis: 5 }', '{ name: warm, when: boiler.temp > 90 }', '{ name: gone, when: boiler.temp > 85 }'];
// hot as it was; warm's threshold changed; gone removed.
const V2 = ['{ name: hot, when: boiler.temp > 95, hysteresis: 5 }', '{ name: warm, when: boiler.temp > 91 }'];

interface Alarm { rule: string; state: string; withdrawn?: boolean }

test('a reload keeps the unchanged rule\'s active alarm, withdraws the changed and the removed ones, and a restart keeps it too', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [99] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-rules-reload', { logLevel: 'info' }), pipelineYaml(plc.port, V1));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'wasmgate/gw-rules-reload/plant/alarms/#', { persistentId: 'rules-reload-subscriber' });
  t.after(() => subscriber.close());
  const alarms = () => subscriber.messages.map((m) => JSON.parse(m.payload.toString()) as Alarm);
  const of = (rule: string) => alarms().filter((a) => a.rule === rule).map((a) => `${a.state}${a.withdrawn ? ' withdrawn' : ''}`);

  const first = startGatewayProcess(fixture.gatewayFile);
  t.after(() => first.stop());
  await first.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await waitFor(() => alarms().length >= 3, 20_000, () => JSON.stringify(alarms()));

  await writeFile(join(fixture.dir, 'pipeline.yaml'), pipelineYaml(plc.port, V2));
  const reloads = () => first.lines.filter((l) => l.includes('configuration reloaded')).length;
  process.kill(first.pid, 'SIGHUP');
  await waitFor(() => reloads() >= 1, 20_000, () => first.lines.slice(-3).join('\n'));
  // warm (changed) is withdrawn and, still hot, fires as the new rule; gone (removed) is withdrawn.
  await waitFor(() => of('warm').length >= 3 && of('gone').length >= 2, 20_000, () => JSON.stringify(alarms()));
  assert.deepEqual(of('hot'), ['active'], 'hot kept its state: no second fire');
  assert.deepEqual(of('warm'), ['active', 'cleared withdrawn', 'active']);
  assert.deepEqual(of('gone'), ['active', 'cleared withdrawn']);
  assert.deepEqual(first.lines.filter((l) => l.includes('"rule.alarm_withdrawn"')).map((l) => (JSON.parse(l) as { rule: string }).rule).sort(), ['gone', 'warm']);
  // The reloaded pipeline's save (after warm's fire) is on disk before the stop.
  await first.stop();

  const second = startGatewayProcess(fixture.gatewayFile);
  t.after(() => second.stop());
  await second.waitForLine((l) => l.includes('"rule.state_restored"'), 'the rules restored', 30_000);
  plc.setHolding(0, [80]);
  await waitFor(() => of('hot').length >= 2 && of('warm').length >= 4, 20_000, () => JSON.stringify(alarms()));
  assert.deepEqual(of('hot'), ['active', 'cleared']);
  assert.deepEqual(of('warm'), ['active', 'cleared withdrawn', 'active', 'cleared']);
  assert.deepEqual(of('gone'), ['active', 'cleared withdrawn'], 'nothing more of a removed rule after the restart');
});
