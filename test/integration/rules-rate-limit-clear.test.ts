/**
 * Regression (hostile tester, issue 10): the per-rule rate limit counted a clear's write-back like
 * any write, so a rule whose limit the stop write filled refused the write-back that undoes it, and
 * the machine stayed stopped after its cause was gone. Now a clear's write-back of a write the fire
 * sent is never held by the limit (it still counts toward it); one whose fire wrote nothing writes
 * nothing. Real daemon, mosquitto, the PLC simulator (modbus-serial's server), whose image
 * says what was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const TRIP = 0;
const STOP = 10;

function pipelineYaml(plcPort: number): string {
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 100ms
        points:
          - { name: trip, function: 3, address: ${TRIP}, type: uint16 }
          - { name: stop, function: 3, address: ${STOP}, type: uint16, access: write }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - name: trip-stop
    when: trip > 0
    actions: { alarm: false, write: [ { point: stop, value: 1, on_clear: 0 } ], rate_limit: { writes: 1, per: 1h } }
`;
}

interface AuditRecord { trigger: string; value: number; outcome: string }

test('a clear\'s write-back of a write the fire sent goes out past a full rate limit; one whose fire wrote nothing writes nothing', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { [TRIP]: [0], [STOP]: [0] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-rate-clear', { logLevel: 'info' }), pipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  const auditFile = join(fixture.dir, 'data', 'rules-audit.jsonl');
  let seen: AuditRecord[] = [];
  const auditOf = async (count: number) => {
    const deadline = Date.now() + 20_000;
    while ((seen = (await readFile(auditFile, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord)).length < count) {
      if (Date.now() > deadline) throw new Error(`${seen.length} audit records of ${count}; log: ${gateway.lines.filter((l) => /rule/.test(l)).slice(-4).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  // Fire: the stop is written, and fills the limit (1 per hour).
  plc.setHolding(TRIP, [1]);
  await auditOf(1);
  assert.deepEqual(plc.readHolding(STOP, 1), [1]);
  // Clear: the write-back undoes the stop, past the full limit.
  plc.setHolding(TRIP, [0]);
  await auditOf(2);
  assert.deepEqual(plc.readHolding(STOP, 1), [0]);
  // Fire again within the hour: the limit holds the stop; and the clear has nothing of the gateway's
  // to undo, so it writes nothing and is no attempt (no audit record).
  plc.setHolding(TRIP, [1]);
  await auditOf(3);
  plc.setHolding(TRIP, [0]);
  const clears = () => gateway.lines.filter((l) => l.includes('"rule.cleared"')).length;
  await gateway.waitForLine(() => clears() >= 2, 'the second clear', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a write would be audited by now
  await auditOf(3);
  assert.deepEqual(seen.map((a) => [a.trigger, a.value, a.outcome]), [
    ['fire', 1, 'written'],
    ['clear', 0, 'written'],
    ['fire', 1, 'rate-limited'],
  ]);
  assert.deepEqual(plc.readHolding(STOP, 1), [0]);
});
