/**
 * Latency from a sample arriving to the PLC write it makes a rule do, on loopback (issue 10): the real
 * daemon polls the PLC simulator every 50 ms; the bench takes the boiler past its limit and back 60
 * times, and a rule writes the stop register on each fire. Each write's audit record carries the time
 * of the sample that fired the rule (`ts`: when its response was read), the time the write began
 * (`at`) and the device's round trip (`rttMs`): sample → confirmed write is (at - ts) + rttMs. What
 * this leaves out is the poll interval itself (how long after the boiler got hot it was read).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../test/support/gateway-process.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { gatewayYaml, writeGatewayFixture } from '../test/support/gateway-fixture.js';
import { emitResult, printMachine } from './machine.js';

const CYCLES = 60;

printMachine();
const broker = await startMosquitto();
const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [60, 0] } } });
const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-latency', { logLevel: 'info' }), `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plc.port}
        interval: 50ms
        points:
          - { name: boiler.temp, function: 3, address: 0, type: int16 }
          - { name: boiler.stop, function: 3, address: 1, type: uint16, access: read_write }
steps: [ { plugin: modbus }, { plugin: json } ]
publish: { uplink: cloud, topic: "plant/{point}" }
rules:
  - name: hot
    when: boiler.temp > 95
    actions: { alarm: false, log: off, write: [ { point: boiler.stop, value: 1 } ], rate_limit: { writes: 1000, per: 1s } }
`);
const gateway = startGatewayProcess(fixture.gatewayFile);
try {
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  const auditFile = join(fixture.dir, 'data', 'rules-audit.jsonl');
  const audit = async () => (await readFile(auditFile, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { ts: string; at: string; rttMs: number; outcome: string });
  let count = 0;
  for (let i = 0; i < CYCLES; i++) {
    plc.setHolding(0, [99]);
    const deadline = Date.now() + 10_000;
    while ((await audit()).length <= count) {
      if (Date.now() > deadline) throw new Error(`no write for fire ${i + 1}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    count++;
    plc.setHolding(0, [60]);
    // Cooled long enough to be read cool (five polls): the rule clears before it can fire again.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const records = await audit();
  const latencies = records.filter((r) => r.outcome === 'written').map((r) => Date.parse(r.at) - Date.parse(r.ts) + r.rttMs).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(`${latencies.length} writes of ${CYCLES} fires`);
  emitResult('rule: sample read → PLC write confirmed, p50', at(0.5), 'ms');
  emitResult('rule: sample read → PLC write confirmed, p99', at(0.99), 'ms');
  emitResult('rule: device round trip of the write, p50', [...records.map((r) => r.rttMs)].sort((a, b) => a - b)[Math.floor(records.length / 2)]!, 'ms');
} finally {
  await gateway.stop();
  await plc.close();
  await broker.dispose();
  await fixture.dispose();
}
