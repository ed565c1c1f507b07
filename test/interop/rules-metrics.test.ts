/**
 * The rules in `wasmgate status` and in the Prometheus metrics (issue 10, C): per pipeline the rules
 * loaded, the active alarms and the writes by outcome. Real daemon polling the PLC simulator and
 * publishing to mosquitto; the metrics parsed by the Prometheus project's own parser (Debian's
 * python3-prometheus-client). Two rules fire: one writes (written), one's interlock holds its write
 * back (interlocked); a third never fires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { hasPrometheusParser, parsePrometheus, sampleValue } from '../support/prometheus.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const gate = { ...needs('mosquitto', !!mosquittoPath()), ...needs('python3-prometheus-client', hasPrometheusParser()) };

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
          - { name: temp, function: 3, address: 0, type: int16 }
          - { name: permit, function: 3, address: 1, type: uint16 }
          - { name: stop, function: 3, address: 10, type: uint16, access: write }
          - { name: valve, function: 3, address: 11, type: uint16, access: write }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - { name: hot, when: temp > 95, actions: { alarm: false, write: [ { point: stop, value: 1 } ] } }
  - { name: warm, when: temp > 90, actions: { alarm: false, write: [ { point: valve, value: 1, interlock: permit == 1 } ] } }
  - { name: cold, when: temp < 0, actions: { alarm: false } }
`;
}

test('status and metrics show the rules loaded, the active ones and their writes by outcome', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [99], 1: [0] } } });
  t.after(() => plc.close());
  const gatewayFile = `${gatewayYaml(broker.url, 'gw-rules-metrics', { logLevel: 'info' })}metrics: { listen: "127.0.0.1:0" }\n`;
  const fixture = await writeGatewayFixture(gatewayFile, pipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  const line = await gateway.waitForLine((l) => l.includes('metrics and health on'), 'the metrics line', 30_000);
  const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await waitFor(() => gateway.lines.filter((l) => l.includes('"rule.write"')).length >= 2, 20_000, () => gateway.lines.filter((l) => /rule/.test(l)).join('\n'));

  const families = await parsePrometheus(await (await fetch(`${base}/metrics`)).text());
  const rule = (name: string) => ({ pipeline: 'plant', rule: name });
  assert.equal(families.find((f) => f.name === 'wasmgate_rule_writes')?.type, 'counter');
  assert.equal(families.find((f) => f.name === 'wasmgate_rule_active')?.type, 'gauge');
  assert.equal(sampleValue(families, 'wasmgate_rules_loaded', { pipeline: 'plant' }), 3);
  assert.deepEqual(['hot', 'warm', 'cold'].map((r) => sampleValue(families, 'wasmgate_rule_active', rule(r))), [1, 1, 0]);
  assert.deepEqual(['hot', 'warm', 'cold'].map((r) => sampleValue(families, 'wasmgate_rule_fires_total', rule(r))), [1, 1, 0]);
  assert.deepEqual(['hot', 'warm', 'cold'].map((r) => sampleValue(families, 'wasmgate_rule_clears_total', rule(r))), [0, 0, 0]);
  const writes = (r: string, outcome: string) => sampleValue(families, 'wasmgate_rule_writes_total', { ...rule(r), outcome });
  assert.deepEqual(['written', 'failed', 'interlocked', 'rate-limited', 'dry-run'].map((o) => writes('hot', o)), [1, 0, 0, 0, 0]);
  assert.deepEqual(['written', 'failed', 'interlocked', 'rate-limited', 'dry-run'].map((o) => writes('warm', o)), [0, 0, 1, 0, 0]);
  assert.equal(sampleValue(families, 'wasmgate_rule_eval_errors_total', { pipeline: 'plant' }), 0);

  const text = await runWasmgate(['status', '--config', fixture.gatewayFile]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ {2}rules: 3 loaded, 2 active \(hot, warm\); 2 fired, 0 cleared; writes 1 written, 0 failed, 1 interlocked, 0 rate-limited, 0 dry-run; 0 eval errors$/m);
  const json = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  const plant = (JSON.parse(json.stdout) as ControlStatus).pipelines.find((p) => p.name === 'plant')!;
  assert.deepEqual(plant.rules.map((r) => [r.name, r.active, r.fired, r.writes.written, r.writes.interlocked]), [['hot', true, 1, 1, 0], ['warm', true, 1, 0, 1], ['cold', false, 0, 0, 0]]);
  assert.equal(plant.rulesEvalErrors, 0);
});
