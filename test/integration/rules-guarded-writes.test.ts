/**
 * The guards on rule writes (docs/rules.md, Actions), each on its own rule of one running daemon: an
 * interlock that does not hold keeps a write off the wire; a rate limit lets one write through and
 * refuses the next; a dry run writes nothing; a write to a device that does not answer fails; and the
 * audit file in the data directory records every attempt with its outcome. The PLC is the simulator
 * (modbus-serial's server); what it holds is read back with mbpoll, an independent client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { findMbpoll, mbpollRead } from '../support/mbpoll.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

/** Holding registers: four trips the test sets, a permit, and the commands the rules write. */
const R = { trip1: 0, trip2: 1, trip3: 2, trip4: 3, permit: 4, cmd1: 10, cmd2: 11, cmd3: 12 } as const;

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function pipelineYaml(plcPort: number, dead: number): string {
  const point = (name: string, address: number, access = 'read') => `          - { name: ${name}, function: 3, address: ${address}, type: uint16, access: ${access} }`;
  return `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plcPort}
        interval: 100ms
        points:
${[point('trip1', R.trip1), point('trip2', R.trip2), point('trip3', R.trip3), point('trip4', R.trip4), point('permit', R.permit), point('cmd1', R.cmd1, 'read_write'), point('cmd2', R.cmd2, 'read_write'), point('cmd3', R.cmd3, 'read_write')].join('\n')}
      - name: gone
        host: 127.0.0.1
        port: ${dead}
        interval: 1s
        timeout: 200ms
        points:
${point('cmd', 0, 'write')}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{device}/{point}" }
rules:
  - name: interlocked
    when: trip1 > 0
    actions: { alarm: false, write: [ { point: cmd1, value: 1, interlock: permit == 1 } ] }
  - name: limited
    when: trip2 > 0
    actions: { alarm: false, write: [ { point: cmd2, value: 7 } ], rate_limit: { writes: 1, per: 1h } }
  - name: dry
    when: trip3 > 0
    actions: { alarm: false, write: [ { point: cmd3, value: 5 } ], dry_run: true }
  - name: unreachable
    when: trip4 > 0
    actions: { alarm: false, write: [ { point: gone:cmd, value: 1 } ] }
`;
}

interface AuditRecord { rule: string; trigger: string; device: string; point: string; value: number; outcome: string; code?: string }

test('interlock, rate limit, dry run and a dead device: each write attempt is audited with its outcome, and only the allowed one reaches the PLC', { ...needs('mosquitto', !!mosquittoPath()), ...needs('mbpoll', !!findMbpoll()) }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [0, 0, 0, 0, 0] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-guards', { logLevel: 'info' }), pipelineYaml(plc.port, await deadPort()));
  t.after(() => fixture.dispose());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);

  const auditFile = join(fixture.dir, 'data', 'rules-audit.jsonl');
  const audit = async (): Promise<AuditRecord[]> => (await readFile(auditFile, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord);
  let seen: AuditRecord[] = [];
  const auditOf = async (count: number, what: string) => {
    const deadline = Date.now() + 20_000;
    while ((seen = await audit()).length < count) {
      if (Date.now() > deadline) throw new Error(`${what}: ${seen.length} audit records; log: ${gateway.lines.filter((l) => /rule/.test(l)).slice(-4).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const clears = (rule: string) => gateway.lines.filter((l) => l.includes('"rule.cleared"') && l.includes(`"rule":"${rule}"`)).length;

  plc.setHolding(R.trip1, [1]);
  await auditOf(1, 'interlocked');
  // The rate-limited rule fires three times: the first write goes, the others are refused.
  for (let k = 1; k <= 3; k++) {
    plc.setHolding(R.trip2, [1]);
    await auditOf(1 + k, `limited, fire ${k}`);
    plc.setHolding(R.trip2, [0]);
    await waitFor(() => clears('limited') >= k, 20_000);
  }
  plc.setHolding(R.trip3, [1]);
  await auditOf(5, 'dry');
  plc.setHolding(R.trip4, [1]);
  await auditOf(6, 'unreachable');

  assert.deepEqual(seen.map((a) => [a.rule, a.trigger, a.device, a.point, a.value, a.outcome]), [
    ['interlocked', 'fire', 'plc', 'cmd1', 1, 'interlocked'],
    ['limited', 'fire', 'plc', 'cmd2', 7, 'written'],
    ['limited', 'fire', 'plc', 'cmd2', 7, 'rate-limited'],
    ['limited', 'fire', 'plc', 'cmd2', 7, 'rate-limited'],
    ['dry', 'fire', 'plc', 'cmd3', 5, 'dry-run'],
    ['unreachable', 'fire', 'gone', 'cmd', 1, 'failed'],
  ]);
  assert.equal(seen[5]!.code, 'WG_ERR_WRITE_UNCONFIRMED');
  // What the PLC holds, read by another client: only the allowed write landed.
  assert.deepEqual(await mbpollRead({ port: plc.port, table: 'holding', address: R.cmd1, count: 3 }), [0, 7, 0]);
  // The log says each outcome too.
  const outcomes = gateway.lines.filter((l) => l.includes('"rule.write"')).map((l) => (JSON.parse(l) as { outcome: string }).outcome);
  assert.deepEqual(outcomes, ['interlocked', 'written', 'rate-limited', 'rate-limited', 'dry-run', 'failed']);
});
