/**
 * /readyz of a pipeline that hangs on every batch (a plugin in an endless loop): its worker is killed
 * at each batch's deadline and replaced at once, so it is `running` most of the time, and no batch is
 * ever done. Ready must stay false, not flip to 200 between kills. Real daemon (child process), the
 * PLC simulator (the device answers every poll), mosquitto, Node's HTTP client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { pipelineYaml, placeWatPlugin } from '../support/hostile-gateway.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';

const gate = needs('mosquitto', !!mosquittoPath());

test('/readyz stays 503 while a pipeline hangs on every batch, though it is running between the kills', gate, async (t) => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const yaml = `${gatewayYaml(broker.url, 'gw-stuck', { logLevel: 'info' })}metrics: { listen: "127.0.0.1:0" }\n`;
  const fixture = await writeGatewayFixture(yaml, pipelineYaml('hostile', plc.port, '  - plugin: modbus\n  - path: ./loop-forever-process.wasm\n  - plugin: json'));
  t.after(() => fixture.dispose());
  await placeWatPlugin(fixture.dir, 'loop-forever-process', 'transform');
  const daemon = startGatewayProcess(fixture.gatewayFile);
  t.after(() => daemon.kill());
  const listening = await daemon.waitForLine((l) => l.includes('"metrics.listening"'), 'metrics listening', 30_000);
  const { port } = JSON.parse(listening) as { port: number };
  await daemon.waitForLine((l) => l.includes('"gateway.started"'), 'gateway started', 30_000);

  const kills = () => daemon.lines.filter((l) => l.includes('"worker.deadline"')).length;
  const answers: Array<{ kills: number; status: number; body: string }> = [];
  // Asked from the start (as a probe would be), until three workers were killed and a while after.
  let killsSeen = 0;
  for (let i = 0; i < 400 && (killsSeen < 3 || answers.filter((a) => a.kills >= 3).length < 20); i++) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    killsSeen = kills();
    answers.push({ kills: killsSeen, status: res.status, body: await res.text() });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(killsSeen >= 3, `only ${killsSeen} watchdog kills in ${answers.length} answers`);
  // After the second kill the pipeline has been restarted with no batch done at least once.
  const late = answers.filter((a) => a.kills >= 2);
  const ready = late.filter((a) => a.status === 200);
  assert.deepEqual(ready, [], `${ready.length} of ${late.length} answers after the second kill said ready`);
  assert.ok(late.every((a) => /pipeline hostile/.test(a.body)), late.find((a) => !/pipeline hostile/.test(a.body))?.body);
  assert.equal(await daemon.stop(), 0);
});
