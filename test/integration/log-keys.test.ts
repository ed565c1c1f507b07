// Regression, issue 6: log lines carried `uplink`, `gateway` and `pipeline` twice (a pino child's
// binding plus the same key in the call's object, or a child of a child), which strict JSON parsers
// reject. The real daemon runs as a child process with lines from every layer (uplink, gateway,
// pipelines, pollers with failing devices, a plugin that traps); every stdout line goes through
// Python's json module with a hook that refuses duplicate keys (an independent, strict parser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { REPO_ROOT, watBytes } from '../support/plugins.js';
import { findTool, needs } from '../support/tools.js';
import { LOG_EVENTS, type LogEvent } from '../../src/host/log-events.js';

const python = findTool('python3');

const device = (name: string, port: number, extra = '') => `      - name: ${name}
        host: 127.0.0.1
        port: ${port}
        interval: 50ms
        timeout: 100ms
        retries: 0
        backoff: { min: 20ms, max: 50ms }${extra}
        points:
          - { name: ${name}.level, function: 3, address: 0, type: uint16 }
`;

function pipelines(plcPort: number, silentPort: number, refusedPort: number): { plant: string; trapping: string } {
  const publish = (name: string) => `publish:
  uplink: cloud
  topic: "${name}/{device}/{point}"
`;
  return {
    plant: `pipeline:
  name: plant
source:
  modbus_tcp:
    devices:
${device('healthy', plcPort)}${device('silent', silentPort, '\n        unit_id: 1')}${device('absent', refusedPort)}steps:
  - plugin: modbus
  - plugin: json
${publish('plant')}`,
    trapping: `pipeline:
  name: trapping
source:
  modbus_tcp:
    devices:
${device('healthy2', plcPort)}steps:
  - plugin: modbus
  - path: ./plugins/trap-once.wasm
  - plugin: json
${publish('trapping')}`,
  };
}

const TRAP_MANIFEST = `name: trap-once
kind: transform
abi: 1
version: 0.1.0
description: Traps on its first batch (hostile fixture test/fixtures/plugins/trap-once.wat).
with:
  type: object
  additionalProperties: false
  properties: {}
`;

test('every log line of a running gateway has each key once (strict parser)', needs('python3', !!python), async () => {
  const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [5] } } });
  const silent = await startPlcSimulator({ mode: 'fixed', unitId: 9, registers: { holding: { 0: [5] } } });
  const refused = await startPlcSimulator({ mode: 'fixed' });
  const refusedPort = refused.port;
  await refused.close();
  const files = pipelines(plc.port, silent.port, refusedPort);
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-logs', { logLevel: 'debug', pipelines: ['./pipeline.yaml', './trapping.yaml'] }), files.plant);
  writeFileSync(join(fixture.dir, 'trapping.yaml'), files.trapping);
  mkdirSync(join(fixture.dir, 'plugins'));
  writeFileSync(join(fixture.dir, 'plugins', 'trap-once.wasm'), watBytes('trap-once'));
  writeFileSync(join(fixture.dir, 'plugins', 'trap-once.plugin.yaml'), TRAP_MANIFEST);
  const gateway = startGatewayProcess(fixture.gatewayFile);
  let stdout: readonly string[] = [];
  try {
    const has = (fragment: string) => (line: string) => line.includes(fragment);
    await gateway.waitForLine(has('"mqtt uplink connected"'), 'the uplink connecting', 20_000);
    await gateway.waitForLine(has('"gateway started"'), 'the gateway starting', 20_000);
    await gateway.waitForLine(has('"WG_ERR_DEVICE_NO_ANSWER"'), 'the silent device reported', 20_000);
    await gateway.waitForLine(has('"WG_ERR_HAL_CONNECT"'), 'the absent device reported', 20_000);
    await gateway.waitForLine((l) => l.includes('"trapping"') && l.includes('"WG_ERR_PLUGIN_TRAP"'), 'the trap in pipeline trapping', 20_000);
    assert.equal(await gateway.stop(), 0, 'the gateway exits cleanly');
    stdout = gateway.lines;
  } finally {
    await gateway.stop();
    await fixture.dispose();
    await plc.close();
    await silent.close();
    await broker.dispose();
  }
  assert.ok(stdout.some((l) => l.includes('"gateway stopped"')), 'the whole life is in the log');
  const checked = spawnSync(python!, [join(REPO_ROOT, 'test', 'support', 'strict_json_lines.py')], { input: stdout.join('\n') + '\n', encoding: 'utf8' });
  const bad = checked.stdout.trim().split('\n').filter(Boolean).map((row) => {
    const [number, reason] = row.split('\t');
    return `${reason}: ${stdout[Number(number) - 1]}`;
  });
  assert.deepEqual(bad, [], `lines a strict JSON parser rejects (${stdout.length} lines checked)`);
  assert.equal(checked.status, 0, checked.stderr);
  assertEventsNamed(stdout);
  // Where the start went: each phase ends after the one before, within the process's life so far.
  const started = JSON.parse(stdout.find((l) => l.includes('"gateway.started"'))!) as { startMs?: Record<string, number> };
  const phases = ['cli', 'config', 'modules', 'gateway'].map((p) => started.startMs?.[p]);
  assert.ok(phases.every((ms) => typeof ms === 'number' && ms > 0), `gateway.started gives each start phase: ${JSON.stringify(started.startMs)}`);
  assert.deepEqual([...phases].sort((a, b) => a! - b!), phases, 'the phases end in order');
});

/** Issue 11: every line names its event from the catalog and carries the key of what it concerns. */
function assertEventsNamed(lines: readonly string[]): void {
  const unnamed: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const event = parsed.event as LogEvent | undefined;
    const entry = event === undefined ? undefined : LOG_EVENTS[event];
    if (!entry) unnamed.push(`no catalogued event: ${line}`);
    else if (parsed[entry.concerns] === undefined) unnamed.push(`${event} without ${entry.concerns}: ${line}`);
    else seen.add(event!);
  }
  assert.deepEqual(unnamed, []);
  // The scenario reaches these, so the check above ran over each kind of line, not only a few.
  for (const event of ['gateway.started', 'uplink.connected', 'device.polling', 'device.problem', 'plugin.batch_dropped', 'gateway.stopping', 'gateway.stopped', 'uplink.closed']) {
    assert.ok(seen.has(event), `the log has a ${event} line`);
  }
}
