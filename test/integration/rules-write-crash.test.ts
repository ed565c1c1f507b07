/**
 * Regression (hostile tester, issue 10): the rules' state was saved as soon as a rule fired, before
 * its write to the PLC was confirmed. A daemon killed with SIGKILL between the two came back with
 * the alarm active and the stop never written: the rules did not fire again, the machine ran on.
 * The state is now saved only once the batch's writes are settled, so after such a kill the rules
 * fire again and the write goes out (at least once). Real daemon, mosquitto, two PLC simulators:
 * one the boiler is read from, one that takes the stop write and holds it unanswered until the kill;
 * what it holds is what modbus-serial's server decoded from the gateway's write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

function pipelineYaml(boilerPort: number, stopPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: boiler, host: 127.0.0.1, port: ${boilerPort}, interval: 100ms, points: [ { name: temp, function: 3, address: 0, type: int16 } ] }
      - { name: guard, host: 127.0.0.1, port: ${stopPort}, interval: 1s, timeout: 60s, points: [ { name: stop, function: 3, address: 0, type: uint16, access: write } ] }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - { name: hot, when: temp > 95, actions: { alarm: false, write: [ { point: guard:stop, value: 1 } ] } }
`;
}

test('a daemon killed while a rule\'s stop write is unconfirmed fires again after the restart and the stop is written', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const boiler = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [99] } } });
  t.after(() => boiler.close());
  // Takes the connection and the write request, and never answers: the write is in flight.
  const guard = await startPlcSimulator({ mode: 'fixed', responseMode: 'ignore' });
  t.after(() => guard.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-write-crash', { logLevel: 'info' }), pipelineYaml(boiler.port, guard.port));
  t.after(() => fixture.dispose());
  const fired = (lines: readonly string[]) => lines.filter((l) => l.includes('"rule.fired"')).length;

  const first = startGatewayProcess(fixture.gatewayFile);
  t.after(() => first.kill());
  await first.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await waitFor(() => fired(first.lines) === 1, 20_000, () => 'the rule fired');
  await waitFor(() => guard.requests >= 1, 20_000, () => 'the stop write reached the guard PLC');
  await first.kill();
  assert.deepEqual(guard.readHolding(0, 1), [0], 'the first daemon never got its write confirmed');

  guard.setResponseMode('answer');
  const second = startGatewayProcess(fixture.gatewayFile);
  t.after(() => second.stop());
  await second.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await waitFor(() => second.lines.some((l) => l.includes('"rule.write"') && l.includes('"outcome":"written"')), 20_000, () => second.lines.filter((l) => /rule/.test(l)).join('\n'));
  assert.equal(fired(second.lines), 1, 'the restarted rules fired again');
  assert.deepEqual(guard.readHolding(0, 1), [1]);
  await second.stop();
  // The audit has the one write that was settled: the first daemon's never finished.
  const audit = (await readFile(join(fixture.dir, 'data', 'rules-audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
  assert.deepEqual(audit.map((a) => a.outcome), ['written']);
});
