/**
 * The outage scenario of issue 10, end to end: the broker is down; a boiler overheats past its limit
 * for longer than the rule's `for:`; the gateway writes the PLC's stop register on its own (read back
 * with mbpoll, libmodbus, an independent client); the boiler cools, the rule clears and writes the
 * register back; the broker comes back, and the alarm and its clear arrive in order, each with the
 * time it happened during the outage. Real daemon (child process), mosquitto, the PLC simulator
 * (modbus-serial's server) as the PLC, an independent subscriber with a persistent session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { findMbpoll, mbpollRead } from '../support/mbpoll.js';
import { needs } from '../support/tools.js';
import { waitFor, waitForAsync } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const FOR_MS = 1500;
const TEMP = 0; // holding register of the boiler temperature, degC
const STOP = 1; // holding register of the stop command

function pipelineYaml(plcPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 100ms
        timeout: 300ms
        points:
          - { name: boiler.temp, function: 3, address: ${TEMP}, type: int16 }
          - { name: boiler.stop, function: 3, address: ${STOP}, type: uint16, access: read_write }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - name: boiler-overheat
    when: boiler.temp > 95
    for: ${FOR_MS}ms
    hysteresis: 5
    severity: critical
    message: boiler above 95 degC
    actions:
      write:
        - { point: boiler.stop, value: 1, on_clear: 0 }
`;
}

interface Alarm { rule: string; state: string; severity: string; ts: string }
interface Reading { point: string; value: number; ts: number }

test('broker down: the boiler overheats, the gateway stops it; the broker back: alarm and clear arrive in order with their times', { ...needs('mosquitto', !!mosquittoPath()), ...needs('mbpoll', !!findMbpoll()) }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { [TEMP]: [60], [STOP]: [0] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-rules', { logLevel: 'info' }), pipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, '#', { persistentId: 'rules-outage-subscriber' });
  t.after(() => subscriber.close());
  const stopRegister = async () => (await mbpollRead({ port: plc.port, table: 'holding', address: STOP }))[0];

  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil((ms) => ms.some((m) => m.topic === 'plant/boiler.temp'), 'a reading', 20_000);

  await broker.stop();
  const outageFrom = Date.now();
  plc.setHolding(TEMP, [99]);
  // The gateway writes the stop register on its own, with the broker gone.
  await waitForAsync(async () => (await stopRegister()) === 1, 20_000, () => `stop register never became 1; log: ${gateway.lines.filter((l) => /rule|error/.test(l)).slice(-5).join('\n')}`);
  plc.setHolding(TEMP, [92]); // below 95 but above 95 - 5: the rule holds (hysteresis)
  plc.setHolding(TEMP, [80]);
  await waitForAsync(async () => (await stopRegister()) === 0, 20_000, () => 'the clear did not write the stop register back');
  const outageTo = Date.now();
  assert.equal(plc.readHolding(STOP, 1)[0], 0);

  await broker.start();
  const alarms = () => subscriber.messages.filter((m) => m.topic === 'wasmgate/gw-rules/plant/alarms/boiler-overheat').map((m) => JSON.parse(m.payload.toString()) as Alarm);
  await waitFor(() => alarms().length >= 2, 30_000, () => `alarms: ${JSON.stringify(alarms())}; ${subscriber.messages.length} messages`);
  const [active, cleared] = alarms();
  assert.equal(alarms().length, 2, 'one fire, one clear: no flood');
  assert.deepEqual([active!.state, cleared!.state], ['active', 'cleared']);
  assert.equal(active!.severity, 'critical');
  const at = (a: Alarm) => Date.parse(a.ts);
  // Both happened during the outage, in order, and are stamped with when they happened, not when delivered.
  assert.ok(outageFrom <= at(active!) && at(active!) < at(cleared!) && at(cleared!) <= outageTo, `${active!.ts} ${cleared!.ts} not within the outage ${new Date(outageFrom).toISOString()}..${new Date(outageTo).toISOString()}`);

  // The readings of the outage arrive too: the alarm fired on a reading at least FOR_MS after the first hot one.
  const readings = () => subscriber.messages.filter((m) => m.topic === 'plant/boiler.temp').map((m) => JSON.parse(m.payload.toString()) as Reading);
  await waitFor(() => readings().some((r) => r.value === 80 && r.ts > at(cleared!) - 1000), 30_000, () => 'the outage readings did not arrive');
  const firstHot = readings().find((r) => r.value > 95)!;
  assert.ok(at(active!) - firstHot.ts >= FOR_MS - 1, `fired ${at(active!) - firstHot.ts} ms after the first reading above 95; for: is ${FOR_MS} ms`);
  assert.ok(readings().some((r) => Math.abs(r.ts - at(active!)) <= 1 && r.value > 95), 'the alarm carries the time of the reading that made it fire');

  // Each write is audited: on the uplink, and in the data directory.
  await waitFor(() => subscriber.messages.filter((m) => m.topic.endsWith('/writes/boiler-overheat')).length >= 2, 10_000);
  const writes = subscriber.messages.filter((m) => m.topic === 'wasmgate/gw-rules/plant/writes/boiler-overheat').map((m) => JSON.parse(m.payload.toString()) as { trigger: string; value: number; outcome: string });
  assert.deepEqual(writes.map((w) => [w.trigger, w.value, w.outcome]), [['fire', 1, 'written'], ['clear', 0, 'written']]);
  const audit = (await readFile(join(fixture.dir, 'data', 'rules-audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; point: string });
  assert.deepEqual(audit.map((a) => [a.point, a.outcome]), [['boiler.stop', 'written'], ['boiler.stop', 'written']]);
});
