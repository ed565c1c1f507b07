/**
 * What the fleet client costs a gateway and how long its answers take (docs/fleet.md), with the real
 * daemon, mosquitto and the PLC simulator: the daemon's private memory (RssAnon, /proc/PID/status)
 * with a `fleet:` block against the same gateway without one, in this one run (median of RUNS starts
 * each, read once the gateway is up and has published for SETTLE_MS); a `status` probe's round trip
 * (command published -> status received, through the broker, median of PROBES); and an install by
 * command to its `applied` status (package in the command, swapped into the running worker after its
 * canary run, median of INSTALLS versions).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startPlcSimulator } from '../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../test/support/gateway-process.js';
import { gatewayYaml, writeGatewayFixture } from '../test/support/gateway-fixture.js';
import { fleetOperator, inAnHour, plantPipeline, writeFleetGateway } from '../test/support/fleet-gateway.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { writeKey, writePackage } from '../test/support/plugin-packages.js';
import { withCustomSection } from '../test/support/plugin-versions.js';
import { builtPluginPath } from '../test/support/plugins.js';
import { emitResult, printMachine } from './machine.js';

const RUNS = 3;
const SETTLE_MS = 3_000;
const PROBES = 20;
const INSTALLS = 5;
const MB = 2 ** 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssAnon = (pid: number) => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

printMachine();
const broker = await startMosquitto({ quiet: true });
const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [21] } } });
const keys = await writeGatewayFixture('', '');
const key = await writeKey(keys.dir, 'vendor');
const plain = await writeGatewayFixture(`${gatewayYaml(broker.url, 'gw-plain', { logLevel: 'info' })}plugins:\n  trusted_keys: [${key.publicFile}]\n`, plantPipeline(plc.port));
const fleet = await writeFleetGateway(broker.url, 'gw-bench', plc.port, key.publicFile);
try {
  const memory = async (file: string, ready: string): Promise<number> => {
    const values: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const daemon = startGatewayProcess(file);
      await daemon.waitForLine((l) => l.includes(ready), ready, 30_000);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      values.push(rssAnon(daemon.pid));
      await daemon.stop();
    }
    return median(values);
  };
  const without = await memory(plain.gatewayFile, '"gateway started"');
  const withFleet = await memory(fleet.gatewayFile, '"fleet.connected"');
  emitResult('RssAnon (private), gateway without fleet block, median', without / MB, 'MB');
  emitResult('RssAnon (private), same gateway with fleet block, median', withFleet / MB, 'MB');
  emitResult('fleet client cost in RssAnon (with - without)', (withFleet - without) / MB, 'MB');

  const operator = await fleetOperator(broker.url);
  const daemon = startGatewayProcess(fleet.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"fleet.connected"'), 'fleet client', 30_000);
  const probes: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const id = `bench-probe-${i}`;
    const t = performance.now();
    await operator.send('gw-bench', { id, op: 'status', expires: inAnHour() });
    await operator.answer(id);
    probes.push(performance.now() - t);
  }
  emitResult(`status probe round trip through the broker, median of ${PROBES}`, median(probes), 'ms');
  const dir = join(keys.dir, 'packages');
  await mkdir(dir);
  const installs: number[] = [];
  for (let i = 0; i < INSTALLS; i++) {
    const version = `0.2.${i}`;
    const module = withCustomSection(await readFile(builtPluginPath('outlier')), 'wasmgate-test-version', version);
    const bytes = await readFile(await writePackage(dir, { name: 'outlier', version, wasm: module, key }));
    const id = `bench-install-${i}`;
    const t = performance.now();
    await operator.send('gw-bench', { id, op: 'install', plugin: 'outlier', version, sha256: createHash('sha256').update(bytes).digest('hex'), package: bytes.toString('base64'), expires: inAnHour() });
    const answer = await operator.answer(id);
    installs.push(performance.now() - t);
    if (answer.outcome !== 'applied') throw new Error(`install ${version}: ${answer.outcome} ${answer.code ?? ''} ${answer.reason ?? ''}`);
  }
  emitResult(`install by fleet command to its applied status (checks, registry, swap with canary), median of ${INSTALLS}`, median(installs), 'ms');
  await daemon.stop();
  await operator.close();
} finally {
  await plc.close();
  await broker.dispose();
  await plain.dispose();
  await fleet.dispose();
  await keys.dispose();
}
