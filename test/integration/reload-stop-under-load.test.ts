/**
 * Reload and graceful stop under load (issue 11's "done when"), on the real daemon: two PLC
 * simulators, mosquitto and an independent QoS 1 subscriber. Pipeline `steady` (5 devices × 10
 * registers every 20 ms, about 2 500 readings/s) is never edited; pipeline `tuned` (3 devices, about
 * 750 readings/s) is edited and reloaded three times (twice over the control socket, once by SIGHUP)
 * while both poll; then SIGTERM.
 *
 * The count is the simulator's, not the gateway's: every read request the steady simulator answered
 * is one poll of 10 readings, so the subscriber must hold exactly 10 readings per answered request,
 * the last poll of each device included (the stop lets the transaction on the wire finish). A reload
 * that dropped what the steady pipeline held (a restart, a ring cleared), a stop that cut off the
 * answers on the wire or did not drain the outbox, each comes out short; a reading sent twice shows
 * as a repeated (topic, ts). The devices' timeout is long (2 s) so that no answer on loopback comes
 * too late to count, however loaded the machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
const STEADY_DEVICES = 5;
const STEADY_POINTS = 10;
const TUNED_DEVICES = 3;

function pipeline(name: string, plcPort: number, devices: number, points: number): string {
  const device = (d: number) => `      - name: ${name[0]}${d}
        host: 127.0.0.1
        port: ${plcPort}
        interval: 20ms
        timeout: 2s
        points:
${Array.from({ length: points }, (_, i) => `          - { name: r${i}, function: 3, address: ${i}, type: uint16 }`).join('\n')}
`;
  return `pipeline: { name: ${name} }
source:
  modbus_tcp:
    devices:
${Array.from({ length: devices }, (_, d) => device(d)).join('')}steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "${name}/{device}/{point}" }
`;
}

const pipelineOf = (m: ReceivedMessage) => m.topic.split('/')[0];
const tsOf = (m: ReceivedMessage) => (JSON.parse(m.payload.toString()) as { ts: number }).ts;

test('under load, three reloads leave the unchanged pipeline whole, and SIGTERM delivers every reading taken', { ...gate, timeout: 180_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const registers = { holding: { 0: Array.from({ length: STEADY_POINTS }, (_, i) => 100 + i) } };
  const steadyPlc = await startPlcSimulator({ mode: 'fixed', registers });
  t.after(() => steadyPlc.close());
  const tunedPlc = await startPlcSimulator({ mode: 'fixed', registers });
  t.after(() => tunedPlc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-load', {
    logLevel: 'info',
    pipelines: ['./steady.yaml', './tuned.yaml'],
    uplink: ['      status: { topic: "site/{gateway}/status" }'],
  }), '');
  t.after(() => fixture.dispose());
  const tunedFile = join(fixture.dir, 'tuned.yaml');
  await writeFile(join(fixture.dir, 'steady.yaml'), pipeline('steady', steadyPlc.port, STEADY_DEVICES, STEADY_POINTS));
  await writeFile(tunedFile, pipeline('tuned', tunedPlc.port, TUNED_DEVICES, 5));
  const subscriber = await subscribe(broker.url, '#', { persistentId: 'reload-load-subscriber' });
  t.after(() => subscriber.close());
  const count = (name: string) => subscriber.messages.filter((m) => pipelineOf(m) === name).length;

  const daemon = startGatewayProcess(fixture.gatewayFile);
  t.after(() => daemon.kill());
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil(() => count('steady') > 2_000 && count('tuned') > 500, 'both pipelines under load', 60_000);

  const status = async (): Promise<ControlStatus> => {
    const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as ControlStatus;
  };
  const steadyPublished = (s: ControlStatus) => s.pipelines.find((p) => p.name === 'steady')!.published;
  let before = steadyPublished(await status());
  for (const [i, points] of [6, 4, 7].entries()) {
    await writeFile(tunedFile, pipeline('tuned', tunedPlc.port, TUNED_DEVICES, points));
    const tunedBefore = count('tuned');
    if (i === 1) {
      const applied = () => daemon.lines.filter((l) => l.includes('"reload.applied"'));
      const earlier = applied().length;
      process.kill(daemon.pid, 'SIGHUP');
      await waitFor(() => applied().length > earlier, 30_000, () => daemon.lines.slice(-3).join('\n'));
      assert.match(applied().at(-1)!, /"changed":\["tuned"\]/);
      assert.match(applied().at(-1)!, /"unchanged":\["steady"\]/);
    } else {
      const out = await runWasmgate(['reload', '--config', fixture.gatewayFile]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^changed: tuned$/m);
      assert.match(out.stdout, /^unchanged: steady$/m);
    }
    await subscriber.waitUntil(() => count('tuned') > tunedBefore + 300, `tuned publishing again after reload ${i + 1}`, 30_000);
    const now = steadyPublished(await status());
    assert.ok(now > before, `steady kept counting through reload ${i + 1} (${before} → ${now}): it was not restarted`);
    before = now;
  }

  assert.equal(await daemon.stop(), 0, 'a clean stop under load');
  const requests = steadyPlc.requests;
  const expected = requests * STEADY_POINTS;
  // QoS 1 at both ends: what the broker acknowledged before the daemon exited reaches the subscriber.
  await waitFor(() => count('steady') >= expected, 30_000, () => `steady ${count('steady')} of ${expected}`);
  await new Promise((resolve) => setTimeout(resolve, 500));

  const steady = subscriber.messages.filter((m) => pipelineOf(m) === 'steady');
  const keys = steady.map((m) => `${m.topic}@${tsOf(m)}`);
  assert.equal(new Set(keys).size, keys.length, 'no steady reading arrived twice');
  assert.equal(steady.length, expected, `steady: ${steady.length} readings for ${requests} answered requests × ${STEADY_POINTS}`);

  // The edited pipeline lost at most what was on the wire at each restart, never part of a poll.
  const polls = new Map<string, Set<string>>();
  for (const m of subscriber.messages.filter((x) => pipelineOf(x) === 'tuned')) {
    const [, device, point] = m.topic.split('/');
    const key = `${device}@${tsOf(m)}`;
    polls.set(key, (polls.get(key) ?? new Set()).add(point!));
  }
  const partial = [...polls].filter(([, points]) => ![4, 5, 6, 7].includes(points.size));
  assert.deepEqual(partial, [], 'every tuned poll arrived whole');

  const statusTopic = subscriber.messages.filter((m) => m.topic === 'site/gw-load/status').map((m) => m.payload.toString());
  assert.equal(statusTopic.at(-1), 'offline', 'the planned stop published the offline status');
  assert.ok(daemon.lines.some((l) => l.includes('"gateway.stopped"')), 'the daemon says it stopped');
});
