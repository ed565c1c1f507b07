/**
 * A fault on the daemon's main thread that nothing caught (hostile tester, issue 11: it ended as a
 * plain Node stack on stderr, the one line without JSON or an event). The real daemon, with a module
 * preloaded (`node --import`, test/fixtures/node/crash-after-start.mjs) that throws from a timer once
 * the daemon's own handler for uncaught faults is in place: the daemon must log `gateway.crashed` as JSON on stdout and exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { REPO_ROOT } from '../support/plugins.js';
import { needs } from '../support/tools.js';

test('an uncaught fault on the main thread is logged as gateway.crashed, and the daemon exits 1', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [5] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-crash'), onePointPipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const crash = pathToFileURL(join(REPO_ROOT, 'test', 'fixtures', 'node', 'crash-after-start.mjs')).href;
  const daemon = startGatewayProcess(fixture.gatewayFile, { NODE_OPTIONS: `--import=${crash}`, WASMGATE_REEXEC: '0' });
  t.after(() => daemon.kill());
  assert.equal(await daemon.exited, 1);
  const line = daemon.lines.find((l) => l.includes('"gateway.crashed"'));
  assert.ok(line, `a gateway.crashed line on stdout:\n${daemon.lines.slice(-5).join('\n')}`);
  const parsed = JSON.parse(line) as { level: number; gateway: string; err: { message: string }; origin: string };
  assert.equal(parsed.level, 60);
  assert.equal(parsed.gateway, 'gw-crash');
  assert.equal(parsed.origin, 'uncaughtException');
  assert.match(parsed.err.message, /injected by the test/);
});
