/**
 * Reload on the real daemon (child process): SIGHUP and `wasmgate reload` over the control socket, the
 * PLC simulator, mosquitto and an independent subscriber. Two pipelines on one PLC: `steady`, which
 * the tests never change, and `tuned`, which they edit. A pipeline left running keeps its counters
 * (a restarted one starts from 0), which is how the test tells "untouched" from "restarted"; the
 * subscriber shows what each pipeline publishes after the reload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, pointsPipelineYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import type { TestBroker } from '../support/test-broker.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());

const pipeline = pointsPipelineYaml;

let broker: TestBroker;
let plc: PlcSimulator;
let fixture: GatewayFixture;
let subscriber: TestSubscriber;
let daemon: GatewayProcess;
let gatewayFile: string;

const tunedFile = () => join(fixture.dir, 'tuned.yaml');
const topics = () => new Set(subscriber.messages.map((m) => m.topic));

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}
const published = (s: ControlStatus, name: string) => s.pipelines.find((p) => p.name === name)?.published;

before(async () => {
  if (gate.skip) return;
  broker = await startMosquitto();
  plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [11, 22, 33] } } });
  fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-reload', { logLevel: 'info', pipelines: ['./steady.yaml', './tuned.yaml'] }), '');
  gatewayFile = fixture.gatewayFile;
  await writeFile(join(fixture.dir, 'steady.yaml'), pipeline('steady', plc.port, ['level']));
  await writeFile(tunedFile(), pipeline('tuned', plc.port, ['flow']));
  subscriber = await subscribe(broker.url, '#', { persistentId: 'reload-subscriber' });
  daemon = startGatewayProcess(gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await subscriber.waitUntil(() => topics().has('steady/level') && topics().has('tuned/flow'), 'both pipelines publishing', 20_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await broker?.dispose();
  await fixture?.dispose();
});

test('SIGHUP after an edit restarts the edited pipeline with its new points and leaves the other running', gate, async () => {
  const before = await status();
  await writeFile(tunedFile(), pipeline('tuned', plc.port, ['flow', 'pressure']));
  const reloads = daemon.lines.filter((l) => l.includes('configuration reloaded')).length;
  process.kill(daemon.pid, 'SIGHUP');
  await waitFor(() => daemon.lines.filter((l) => l.includes('configuration reloaded')).length > reloads, 20_000, () => daemon.lines.slice(-3).join('\n'));
  const line = JSON.parse(daemon.lines.filter((l) => l.includes('configuration reloaded')).at(-1)!) as Record<string, string[]>;
  assert.deepEqual([line.unchanged, line.changed, line.added, line.removed], [['steady'], ['tuned'], [], []]);
  await subscriber.waitUntil(() => topics().has('tuned/pressure'), 'the new point published', 20_000);
  const after = await status();
  assert.ok(published(after, 'steady')! >= published(before, 'steady')!, `steady kept counting: ${published(before, 'steady')} then ${published(after, 'steady')}`);
  assert.ok(published(after, 'tuned')! < published(before, 'tuned')! + 1_000, 'tuned is a fresh pipeline');
  assert.deepEqual(after.pipelines.map((p) => [p.name, p.state]), [['steady', 'running'], ['tuned', 'running']]);
});

test('wasmgate reload with a broken file changes nothing and prints the problem at its line and column', gate, async () => {
  const good = pipeline('tuned', plc.port, ['flow', 'pressure']);
  await writeFile(tunedFile(), good.replace('interval: 100ms', 'interval: 100ms\n        intervall: 5s'));
  const before = await status();
  const run = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stderr, /tuned\.yaml:9:9 source\.modbus_tcp\.devices\[0\]\.intervall: /);
  assert.match(run.stderr, /WG_ERR_RELOAD_REFUSED/);
  const after = await status();
  assert.ok(published(after, 'tuned')! >= published(before, 'tuned')!, 'tuned was not restarted');
  assert.ok(daemon.lines.some((l) => l.includes('WG_ERR_RELOAD_REFUSED') && l.includes('intervall')), 'the log names the problem');
  await writeFile(tunedFile(), good);
});

test('a changed uplink refuses the reload, naming it; an unchanged file reloads with every pipeline unchanged', gate, async () => {
  const original = gatewayYaml(broker.url, 'gw-reload', { logLevel: 'info', pipelines: ['./steady.yaml', './tuned.yaml'] });
  await writeFile(gatewayFile, original.replace('qos: 1', 'qos: 0'));
  const refused = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /uplinks changed: a reload applies pipeline changes only; restart the daemon/);
  await writeFile(gatewayFile, original);
  const same = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout, 'unchanged: steady, tuned\nchanged: -\nadded: -\nremoved: -\nswapped: -\n');
});

test('a pipeline taken out of the gateway file stops; put back, it starts again', gate, async () => {
  const gateway = (pipelines: string[]) => gatewayYaml(broker.url, 'gw-reload', { logLevel: 'info', pipelines });
  await writeFile(gatewayFile, gateway(['./steady.yaml']));
  const out = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^removed: tuned$/m);
  assert.deepEqual((await status()).pipelines.map((p) => p.name), ['steady']);
  const seen = subscriber.messages.length;
  await subscriber.waitUntil((m) => m.slice(seen).filter((x) => x.topic === 'steady/level').length >= 3, 'steady goes on', 10_000);
  await writeFile(gatewayFile, gateway(['./steady.yaml', './tuned.yaml']));
  const back = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /^added: tuned$/m);
  const again = subscriber.messages.length;
  await subscriber.waitUntil((m) => m.slice(again).some((x) => x.topic === 'tuned/flow'), 'tuned publishes again', 20_000);
});

test('a reload during a broker outage leaves what the outbox holds alone: the outage\'s readings of both pipelines arrive', gate, async () => {
  await broker.stop();
  const outageFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const held = (await status()).uplinks[0]!.outbox!.messages;
  assert.ok(held >= 10, `the outbox holds the outage's readings (${held})`);
  await writeFile(tunedFile(), pipeline('tuned', plc.port, ['flow', 'pressure', 'speed']));
  const out = await runWasmgate(['reload', '--config', gatewayFile]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^changed: tuned$/m);
  assert.ok((await status()).uplinks[0]!.outbox!.messages >= held, 'nothing the outbox held was dropped by the reload');
  const reloadedAt = Date.now();
  await broker.start();
  // Readings taken before the reload, during the outage, from the pipeline that stayed and from the
  // one that was restarted.
  const ofOutage = (topic: string) => subscriber.messages.filter((m) => m.topic === topic && (JSON.parse(m.payload.toString()) as { ts: number }).ts > outageFrom + 200 && (JSON.parse(m.payload.toString()) as { ts: number }).ts < reloadedAt - 500);
  await subscriber.waitUntil(() => ofOutage('steady/level').length >= 5 && ofOutage('tuned/flow').length >= 5, 'the outage readings of both pipelines', 30_000);
});
