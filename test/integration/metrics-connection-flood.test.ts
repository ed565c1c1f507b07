/**
 * Whoever reaches the metrics port may open connections, and each one accepted is a file descriptor
 * of the daemon's. A flood of idle connections must not take the descriptors the gateway itself
 * needs: its outbox file, its control socket. The real daemon (child process) runs under a limit of
 * 200 open files (prlimit, as a service's LimitNOFILE would set it, lower to keep the test small),
 * polls the PLC simulator and publishes to mosquitto; the test holds 400 connections to the port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { findTool, needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const prlimit = findTool('prlimit');
const gate = { ...needs('mosquitto', !!mosquittoPath()), ...needs('prlimit', !!prlimit) };
const FILE_LIMIT = 200;

test('400 idle connections to the metrics port leave the outbox on disk and the control socket answering', gate, async (t) => {
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const yaml = `${gatewayYaml(broker.url, 'gw-flood', { logLevel: 'info' })}metrics: { listen: "127.0.0.1:0" }\n`;
  const fixture = await writeGatewayFixture(yaml, onePointPipelineYaml(plc.port));
  t.after(() => fixture.dispose());
  const daemon = startGatewayProcess(fixture.gatewayFile, {}, undefined, [prlimit!, `--nofile=${FILE_LIMIT}:${FILE_LIMIT}`, '--']);
  t.after(() => daemon.kill());
  const listening = await daemon.waitForLine((l) => l.includes('"metrics.listening"'), 'metrics listening', 30_000);
  const { port } = JSON.parse(listening) as { port: number };
  await daemon.waitForLine((l) => l.includes('"gateway.started"'), 'gateway started', 30_000);

  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const opened = Array.from({ length: 2 * FILE_LIMIT }, () => new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve());
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    sockets.push(socket);
  }));
  await Promise.all(opened);
  // The daemon's own reply to each: accepted and held, or accepted and closed at once.
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  const status = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(status.code, 0, `the control socket does not answer while the port is flooded: ${status.stderr}`);
  const open = readdirSync(`/proc/${daemon.pid}/fd`).length;
  assert.ok(open < FILE_LIMIT / 2, `the daemon holds ${open} of its ${FILE_LIMIT} descriptors`);
  assert.ok(!daemon.lines.some((l) => l.includes('EMFILE')), daemon.lines.filter((l) => l.includes('EMFILE')).join('\n'));
  assert.equal(await daemon.stop(), 0);
});
