/**
 * A reload that is still reading its files when a stop begins (SIGHUP, then SIGTERM before the
 * reload's plugins are configured) must not start pipelines into a gateway that is stopping: after
 * `gateway.stopped` nothing more is logged, the exit is 0 and the reload is refused, not applied.
 * The broker is away and messages wait in the outbox, so the stop takes its 3 s outbox drain and the
 * reload has long finished reading its files within it (without the fix it started the changed
 * pipeline, which polled after the stop had stopped the pipelines).
 * Real daemon (child process), the PLC simulator, mosquitto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';
import { waitForAsync } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const gate = needs('mosquitto', !!mosquittoPath());

test('a stop during a reload: the reload starts nothing, the gateway stops cleanly', gate, async (t) => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  const broker = await startMosquitto();
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-reload-stop', { logLevel: 'info' }), onePointPipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const daemon = startGatewayProcess(fixture.gatewayFile);
  t.after(() => daemon.kill());
  await daemon.waitForLine((l) => l.includes('"gateway.started"'), 'gateway started', 30_000);

  // The broker away, so that the stop waits for the outbox to drain (up to 3 s) and the reload has
  // time to finish in it.
  await broker.dispose();
  await daemon.waitForLine((l) => l.includes('"uplink.lost"'), 'uplink lost', 10_000);
  await waitForAsync(async () => {
    const status = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
    const uplinks = (JSON.parse(status.stdout) as ControlStatus).uplinks;
    return (uplinks[0]?.outbox?.messages ?? 0) > 0;
  }, 10_000, () => 'no message waits in the outbox');
  // A changed pipeline, so that the reload would stop and start it.
  await writeFile(join(fixture.dir, 'pipeline.yaml'), onePointPipelineYaml(plc.port, { intervalMs: 150 }));
  process.kill(daemon.pid, 'SIGHUP');
  await daemon.waitForLine((l) => l.includes('"reload.requested"'), 'reload requested', 10_000);
  process.kill(daemon.pid, 'SIGTERM');
  const code = await daemon.exited;

  const events = daemon.lines.map((l) => (JSON.parse(l) as { event?: string }).event);
  const stopped = events.indexOf('gateway.stopped');
  assert.ok(stopped >= 0, `no gateway.stopped line:\n${daemon.lines.slice(-8).join('\n')}`);
  assert.deepEqual(events.slice(stopped + 1).filter((e) => e !== 'reload.refused'), [], `lines after the stop:\n${daemon.lines.slice(stopped).join('\n')}`);
  // The reload got as far as the gateway (the stop waits 3 s for the outbox) and was turned away.
  const refused = daemon.lines.find((l) => l.includes('"reload.refused"'));
  assert.match(refused ?? '', /stopping/, `the reload did not end in a refusal:\n${daemon.lines.join('\n')}`);
  assert.ok(!events.includes('reload.applied'), `a reload was applied during the stop:\n${daemon.lines.join('\n')}`);
  assert.equal(code, 0);
});
