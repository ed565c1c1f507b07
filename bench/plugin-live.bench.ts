/**
 * Install-to-live and rollback in the running daemon (docs/plugins.md, "Installing"): a gateway
 * process with two pipelines on a simulated PLC, mosquitto (aedes when it is not installed) and a
 * subscriber here. For each of ROUNDS installs of a signed scale package, and a rollback after each:
 * the time from the request on the control socket to its answer (checks, registry commit, the reload
 * that restarts the one pipeline running scale), and to the first message the subscriber gets from
 * that pipeline after the answer (the new version live end to end; polls are every 100 ms, so up to
 * 100 ms of this is waiting for the next poll). Medians.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { controlRequest } from '../src/host/control/control-client.js';
import { startPlcSimulator } from '../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../test/support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../test/support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../test/support/mosquitto.js';
import { startAedes } from '../test/support/aedes.js';
import { subscribe } from '../test/support/mqtt-subscriber.js';
import { writeKey, writePackage } from '../test/support/plugin-packages.js';
import { emitResult, printMachine } from './machine.js';

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function pipeline(name: string, port: number, scaled: boolean): string {
  return `pipeline: { name: ${name} }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${port}, interval: 100ms, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
${scaled ? '  - plugin: scale\n    with: { points: { level: { factor: 2 } } }\n' : ''}  - plugin: json
publish: { uplink: cloud, topic: "${name}/{point}" }
`;
}

printMachine();
const broker = mosquittoPath() ? await startMosquitto() : await startAedes();
const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [21] } } });
const fixture = await writeGatewayFixture(`${gatewayYaml(broker.url, 'gw-bench', { logLevel: 'warn', pipelines: ['./scaled.yaml', './steady.yaml'] })}plugins:\n  trusted_keys: [./vendor.pub]\n`, '');
const { writeFile } = await import('node:fs/promises');
await writeFile(join(fixture.dir, 'scaled.yaml'), pipeline('scaled', plc.port, true));
await writeFile(join(fixture.dir, 'steady.yaml'), pipeline('steady', plc.port, false));
const key = await writeKey(fixture.dir, 'vendor');
const subscriber = await subscribe(broker.url, 'scaled/#', { qos: 0 });
const daemon = startGatewayProcess(fixture.gatewayFile);
const socket = join(fixture.dir, 'data', 'control.sock');
try {
  await subscriber.waitUntil((m) => m.length > 0, 'the gateway publishing', 30_000);
  // The pipelines publish before the control socket serves (until then only hello answers, `starting`).
  for (let t = performance.now(); ; await new Promise((r) => setTimeout(r, 20))) {
    const { result } = await controlRequest<{ state: string }>(socket, 'hello', {}, 5_000);
    if (result.state === 'running') break;
    if (performance.now() - t > 30_000) throw new Error(`the daemon is still ${result.state}`);
  }
  const answered: number[] = [];
  const live: number[] = [];
  const backAnswered: number[] = [];
  const backLive: number[] = [];
  const timeOne = async (op: string, params: Record<string, unknown>, answers: number[], lives: number[]) => {
    const t0 = performance.now();
    await controlRequest(socket, op, params, 120_000);
    const t1 = performance.now();
    const seen = subscriber.messages.length;
    await subscriber.waitUntil((m) => m.length > seen, 'a message after the answer', 30_000);
    answers.push(t1 - t0);
    lives.push(performance.now() - t0);
  };
  for (let i = 0; i < ROUNDS; i++) {
    // Two versions per round, so each rollback has one to go back to.
    for (const v of [`1.${i}.0`, `1.${i}.1`]) {
      const file = await writePackage(fixture.dir, { name: 'scale', version: v, key });
      await timeOne('plugin.install', { file, package: (await readFile(file)).toString('base64') }, answered, live);
    }
    await timeOne('plugin.rollback', { plugin: 'scale' }, backAnswered, backLive);
  }
  emitResult('install in the daemon: request to answer (checks, commit, reload of 1 of 2 pipelines), median', median(answered), 'ms');
  emitResult('install in the daemon: request to the first message of the new version, median', median(live), 'ms');
  emitResult('rollback in the daemon: request to answer, median', median(backAnswered), 'ms');
  emitResult('rollback in the daemon: request to the first message, median', median(backLive), 'ms');
} finally {
  await daemon.stop();
  await subscriber.close();
  await plc.close();
  await broker.dispose();
  await fixture.dispose();
}
