/**
 * Two reloads asked at once (SIGHUP and `wasmgate reload`, two operators) go one after the other,
 * each reading the files once the one before is applied (hostile tester, issue 11: the second was
 * refused as "already under way", or, read earlier and applied later, could apply the older file).
 * In process, with the PLC simulator and mosquitto: the first reload starts, the file is edited
 * again at once, the second reload starts; both must succeed and the gateway must end on the last edit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { Gateway } from '../../src/host/gateway.js';
import { reloadFromFile } from '../../src/host/reload/reload-from-file.js';
import { gatewayYaml, pointsPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';

const gate = needs('mosquitto', !!mosquittoPath());

const pipeline = (plcPort: number, points: string[]) => pointsPipelineYaml('tuned', plcPort, points);

test('two reloads at once both apply, in order: the gateway ends on the file as last edited', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [1, 2, 3] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-reloads'), pipeline(plc.port, ['a']));
  t.after(() => fixture.dispose());
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok);
  const logger = pino({ level: 'silent' });
  const gateway = await Gateway.start(loaded.config, { logger, statusIntervalMs: 0 });
  t.after(() => gateway.stop());
  const file = join(fixture.dir, 'pipeline.yaml');

  await writeFile(file, pipeline(plc.port, ['a', 'b']));
  const first = reloadFromFile(gateway, logger);
  await writeFile(file, pipeline(plc.port, ['a', 'b', 'c']));
  const second = reloadFromFile(gateway, logger);
  const outcomes = await Promise.allSettled([first, second]);
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled'], JSON.stringify(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))));
  assert.deepEqual(gateway.config.pipelines[0]!.points.map((p) => p.name), ['a', 'b', 'c'], 'the last edit is what runs');
});
